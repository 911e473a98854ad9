//! `plan`, `step`, `spawn_step`: a test's declaration and its steps, run by the Python
//! runner in a `python3` of its own per call (see [`crate::step`] for the contract; a
//! spawned step's is started ahead of it, see [`crate::spare`]).

use lutf_protocol::{
    ErrorReply, PlanArgs, Redactor, SpawnResult, StepArgs, StepResult, TestPlan, WaitArgs,
    DEFAULT_OUTPUT_LIMIT,
};

use crate::jobs::JobSpec;
use crate::ops::jobs;
use crate::process::{self, Limits, Output};
use crate::step;
use crate::workdir::Scratch;
use crate::Env;

/// How much of the runner's output is kept as the detail of a failed `plan`.
const PLAN_LOG_LIMIT: u64 = 64 * 1024;

/// Reads the test file's plan without running any step.
pub fn plan(env: &Env, args: &PlanArgs) -> Result<TestPlan, ErrorReply> {
    let file = step::test_file(env, &args.file)?;
    let scratch = Scratch::new(&env.workdir)?;
    let cmd = step::plan_command(env, &file, scratch.path())?;
    let limits = Limits {
        timeout: Some(step::PLAN_TIMEOUT),
        grace: step::GRACE,
        dump: None,
    };
    let f = process::run(
        &cmd,
        Output::Merged {
            limit: PLAN_LOG_LIMIT,
        },
        limits,
        |_| {},
    )?;
    step::plan_result(&file, scratch.path(), &f)
}

/// Runs one step to its end.
pub fn step(env: &Env, args: &StepArgs) -> Result<StepResult, ErrorReply> {
    let scratch = Scratch::new(&env.workdir)?;
    let cmd = step::step_command(env, args, scratch.path())?;
    let limit = args.output_limit.unwrap_or(DEFAULT_OUTPUT_LIMIT);
    let f = process::run(
        &cmd,
        Output::Merged { limit },
        step::limits(args, scratch.path()),
        |_| {},
    )?;
    let mut r = StepResult {
        outcome: step::step_outcome(args, scratch.path(), &f, None),
        duration: f.duration,
        log: f.stdout,
    };
    Redactor::new(&args.context.secrets).step_result(&mut r);
    Ok(r)
}

/// Starts one step in the background; `wait` and `kill` answer with its result.
pub fn spawn_step(env: &Env, args: StepArgs) -> Result<SpawnResult, ErrorReply> {
    // Fail here, where the caller sees it, when the test file or python3 is missing.
    step::test_file(env, &args.file)?;
    step::python(env)?;
    let wait = args.wait.unwrap_or(0.0);
    let id = args.job.clone();
    let started = match crate::spare::claim(env, &args, id.as_deref()) {
        Some(claimed) => claimed,
        None => jobs::start(
            env,
            JobSpec::Step {
                args: Box::new(args),
            },
            id.as_deref(),
        ),
    };
    // Whether this step started or not, the next one should find a runner waiting.
    crate::spare::start(env);
    let mut spawned = started?;
    if wait > 0.0 {
        // The step runs: trouble from here on is the master's to see through `wait`. The
        // job is not forgotten here: a master that lost this call's channel may be
        // killing it right now, and reads its files to say how it ended.
        let waited = jobs::wait(
            env,
            &WaitArgs {
                job: spawned.job.clone(),
                timeout: wait,
            },
        );
        if let Ok(r) = waited {
            if r.finished {
                spawned.ended = Some(Box::new(r));
            }
        }
    }
    Ok(spawned)
}
