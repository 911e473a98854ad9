#!/bin/bash
# Plays auster's part around one suite, for lutf's tests (tests/auster_hook.rs).
#
# It does what lustre/tests/auster and yaml.sh do for a suite, in the same order:
#   - exports what auster exports (TF_FAIL, TF_SKIP, HONOR_EXCEPT, SLOW, NAME, CONFIG,
#     FAIL_ON_ERROR with -k, LUSTRE, LOGDIR, YAML_LOG, TESTSUITE=auster as its own
#     init_test_env leaves it) and sources the cfg in its own shell, so the cfg's host
#     variables are set here but NOT exported to the suite;
#   - writes the results.yml header (yml_results_file: TestGroup, the empty
#     CODE_REVIEW_YAML line, Tests:) and the suite's Tests entry (yml_log_test);
#   - removes TF_FAIL, creates TF_SKIP, runs `bash $LUSTRE/tests/<suite>.sh` with no
#     arguments, its output into <suite>.suite_log.<host>.log;
#   - appends the suite's duration and status (yml_log_test_status): FAIL when the exit
#     code is not 0 or TF_FAIL exists, else SKIP when TF_SKIP still exists, else PASS;
#     then removes TF_SKIP.
# It exits with the suite's exit code, so that the caller sees 0, 1 or 111.
#
# Usage: fake-auster.sh [-c CONFIG] [-f NAME] [-k] [-s] [-H] -D LOGDIR
#                       SUITE [--only L] [--except L] [--start-at ID] [--stop-at ID]
#                             [--suite L] [--pattern L]
# LUSTRE must name the tree holding tests/<suite>.sh. The one departure from auster:
# TF_FAIL and TF_SKIP come from FAKE_TF_FAIL and FAKE_TF_SKIP (auster fixes them at
# /tmp/tf.fail and /tmp/tf.skip), so that tests running at once do not share them.

set -e

export TF_FAIL=${FAKE_TF_FAIL:-/tmp/tf.fail}
export TF_SKIP=${FAKE_TF_SKIP:-/tmp/tf.skip}
export HONOR_EXCEPT=
export SLOW=${SLOW:-no}
export NAME=${NAME:-local}
logdir=

while getopts "c:f:kHsD:" opt; do
	case $opt in
	c) export CONFIG=$OPTARG ;;
	f) NAME=$OPTARG ;;
	k) export FAIL_ON_ERROR=false ;;
	H) export HONOR_EXCEPT=y ;;
	s) export SLOW=yes ;;
	D) logdir=$OPTARG ;;
	*) echo "usage: see the head of $0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$logdir" ] || { echo "fake-auster: -D LOGDIR is required" >&2; exit 2; }
[ -n "$LUSTRE" ] || { echo "fake-auster: LUSTRE is required" >&2; exit 2; }
export LUSTRE
# auster's own init_test_env leaves TESTSUITE=auster in the environment.
export TESTSUITE=auster

# reset_logging / init_logging.
export LOGDIR=$logdir
mkdir -p "$LOGDIR"
export YAML_LOG=$LOGDIR/results.yml

# The cfg, in auster's shell: its assignments are not exported.
. "${CONFIG:-$LUSTRE/tests/cfg/$NAME.sh}"

# yml_results_file.
{
	printf 'TestGroup:\n'
	printf '    test_group: %s\n' "acc-sm-$(hostname -s)"
	printf '    testhost: %s\n' "$(hostname -s)"
	printf '    submission: %s\n' "$(date)"
	printf '    user_name: %s\n' "$USER"
	echo -e "$CODE_REVIEW_YAML"
	printf 'Tests:\n'
} >> "$YAML_LOG"

split_commas() {
	echo "${*//,/ }"
}

suite=$1
shift
unset ONLY EXCEPT START_AT STOP_AT
while [ -n "$1" ]; do
	case $1 in
	--only) shift; export ONLY=$(split_commas "$1") ;;
	--except) shift; export EXCEPT=$(split_commas "$1") ;;
	--start-at) shift; export START_AT=$1 ;;
	--stop-at) shift; export STOP_AT=$1 ;;
	--suite) shift; export SUITE=$(split_commas "$1") ;;
	--pattern) shift; export PATTERN=$(split_commas "$1") ;;
	*) echo "fake-auster: unknown suite option $1" >&2; exit 2 ;;
	esac
	shift
done

# run_suite_logged / run_suite.
{
	printf -- '-\n'
	printf '        name: %s\n' "$suite"
	printf '        description: %s\n' "$TESTSUITE $suite"
	printf '        submission: %s\n' "$(date)"
	printf '        report_version: 2\n'
	printf '        SubTests:\n'
} >> "$YAML_LOG"
rm -f "$TF_FAIL"
touch "$TF_SKIP"
start_ts=$(date +%s)
rc=0
bash "$LUSTRE/tests/$suite.sh" > "$LOGDIR/$suite.suite_log.$(hostname -s).log" 2>&1 || rc=$?
duration=$(($(date +%s) - start_ts))
status=PASS
if [ $rc -ne 0 ] || [ -f "$TF_FAIL" ]; then
	status=FAIL
elif [ -f "$TF_SKIP" ]; then
	status=SKIP
fi
{
	printf '        duration: %s\n' "$duration"
	printf '        status: %s\n' "$status"
} >> "$YAML_LOG"
rm -f "$TF_SKIP"
exit $rc
