//! Reads liblnetconfig's cYAML trees into YAML values.
//!
//! The tree is walked directly (no text round trip), with two habits of liblnetconfig
//! undone on the way: strings that it prints "as is" carry their own double quotes
//! (`descr: "\"success\""`), and a sequence may hold named members directly instead of
//! unnamed items (`net: [net type, local NI(s), net type, ...]`), which lnetctl prints as
//! one item per run of names, a new item starting when a name repeats.

use std::ffi::CStr;

use lnetconfig_sys::common::{
    cYAML, CYAML_TYPE_ARRAY, CYAML_TYPE_FALSE, CYAML_TYPE_NULL, CYAML_TYPE_NUMBER,
    CYAML_TYPE_OBJECT, CYAML_TYPE_STRING, CYAML_TYPE_TRUE,
};
use serde_yaml::{Mapping, Value};

/// The most nodes a tree may have, and the deepest it may go, before it is called broken
/// (a corrupted tree could loop).
const MAX_NODES: usize = 1_000_000;
const MAX_DEPTH: usize = 128;

/// A tree that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// More than `MAX_NODES` nodes, or a loop.
    #[error("the tree has more than {MAX_NODES} nodes (or loops)")]
    TooBig,
    /// Nested deeper than `MAX_DEPTH`.
    #[error("the tree is nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// A node of an unknown type.
    #[error("a node has the unknown type {0}")]
    UnknownType(u32),
}

/// Converts the tree at `root` into a value; `None` for a null pointer.
///
/// # Safety
/// `root` must be null or point to a cYAML tree that stays valid and unchanged during the
/// call (as returned by a liblnetconfig call and not yet freed).
pub unsafe fn to_value(root: *const cYAML) -> Result<Option<Value>, TreeError> {
    if root.is_null() {
        return Ok(None);
    }
    let mut budget = MAX_NODES;
    node_value(&*root, 0, &mut budget).map(Some)
}

/// The children of a node, in order.
unsafe fn children(node: &cYAML) -> impl Iterator<Item = &cYAML> {
    let mut next = node.cy_child as *const cYAML;
    std::iter::from_fn(move || {
        let current = next.as_ref()?;
        next = current.cy_next;
        Some(current)
    })
}

unsafe fn key(node: &cYAML) -> Option<String> {
    (!node.cy_string.is_null()).then(|| {
        CStr::from_ptr(node.cy_string)
            .to_string_lossy()
            .into_owned()
    })
}

unsafe fn node_value(node: &cYAML, depth: usize, budget: &mut usize) -> Result<Value, TreeError> {
    *budget = budget.checked_sub(1).ok_or(TreeError::TooBig)?;
    if depth > MAX_DEPTH {
        return Err(TreeError::TooDeep);
    }
    Ok(match node.cy_type {
        CYAML_TYPE_FALSE => Value::Bool(false),
        CYAML_TYPE_TRUE => Value::Bool(true),
        CYAML_TYPE_NULL => Value::Null,
        CYAML_TYPE_NUMBER => number(node.cy_valueint, node.cy_valuedouble),
        CYAML_TYPE_STRING => {
            let s = if node.cy_valuestring.is_null() {
                String::new()
            } else {
                CStr::from_ptr(node.cy_valuestring)
                    .to_string_lossy()
                    .into_owned()
            };
            Value::String(unquote(s))
        }
        CYAML_TYPE_OBJECT => {
            let mut map = Mapping::new();
            for child in children(node) {
                let k = key(child).map_or(Value::Null, Value::String);
                let v = node_value(child, depth + 1, budget)?;
                insert_merging(&mut map, k, v);
            }
            Value::Mapping(map)
        }
        CYAML_TYPE_ARRAY => {
            let mut items = Vec::new();
            // The item being filled from named members, if any.
            let mut open: Option<Mapping> = None;
            for child in children(node) {
                let v = node_value(child, depth + 1, budget)?;
                match key(child) {
                    None => {
                        items.extend(open.take().map(Value::Mapping));
                        items.push(v);
                    }
                    Some(k) => {
                        let k = Value::String(k);
                        if open.as_ref().is_some_and(|m| m.contains_key(&k)) {
                            items.extend(open.take().map(Value::Mapping));
                        }
                        open.get_or_insert_with(Mapping::new).insert(k, v);
                    }
                }
            }
            items.extend(open.map(Value::Mapping));
            Value::Sequence(items)
        }
        other => return Err(TreeError::UnknownType(other)),
    })
}

/// A cYAML number: an integer when the double holds exactly the integer.
fn number(int: i64, double: f64) -> Value {
    if double.is_finite() && double == int as f64 {
        Value::Number(int.into())
    } else {
        Value::Number(double.into())
    }
}

/// Removes one pair of enclosing double quotes, which liblnetconfig writes into the strings
/// it wants printed quoted.
pub(crate) fn unquote(s: String) -> String {
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        s[1..s.len() - 1].to_owned()
    } else {
        s
    }
}

/// Inserts into a mapping, keeping both values when the key is already there: two
/// sequences are concatenated, anything else becomes a sequence of the values.
pub(crate) fn insert_merging(map: &mut Mapping, key: Value, value: Value) {
    match map.get_mut(&key) {
        None => {
            map.insert(key, value);
        }
        Some(Value::Sequence(existing)) => match value {
            Value::Sequence(more) => existing.extend(more),
            other => existing.push(other),
        },
        Some(existing) => {
            let old = std::mem::take(existing);
            *existing = Value::Sequence(vec![old, value]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;
    use std::ptr::null_mut;

    /// Builds trees in Rust memory, linked as liblnetconfig links them.
    struct Builder {
        // Boxed: the tree links point at the nodes while more are pushed.
        #[allow(clippy::vec_box)]
        nodes: Vec<Box<cYAML>>,
        strings: Vec<CString>,
    }

    impl Builder {
        fn new() -> Self {
            Builder {
                nodes: Vec::new(),
                strings: Vec::new(),
            }
        }
        fn cstr(&mut self, s: &str) -> *mut std::ffi::c_char {
            self.strings.push(CString::new(s).unwrap());
            self.strings.last().unwrap().as_ptr() as *mut _
        }
        fn node(&mut self, parent: *mut cYAML, key: Option<&str>, t: u32) -> *mut cYAML {
            let mut n = Box::new(cYAML {
                cy_next: null_mut(),
                cy_prev: null_mut(),
                cy_child: null_mut(),
                cy_type: t,
                cy_valuestring: null_mut(),
                cy_valueint: 0,
                cy_valuedouble: 0.0,
                cy_string: null_mut(),
                cy_user_data: null_mut(),
            });
            if let Some(k) = key {
                n.cy_string = self.cstr(k);
            }
            let p: *mut cYAML = &mut *n;
            self.nodes.push(n);
            if !parent.is_null() {
                unsafe {
                    let mut last = (*parent).cy_child;
                    if last.is_null() {
                        (*parent).cy_child = p;
                    } else {
                        while !(*last).cy_next.is_null() {
                            last = (*last).cy_next;
                        }
                        (*last).cy_next = p;
                        (*p).cy_prev = last;
                    }
                }
            }
            p
        }
        fn string(&mut self, parent: *mut cYAML, key: Option<&str>, v: &str) -> *mut cYAML {
            let n = self.node(parent, key, CYAML_TYPE_STRING);
            let s = self.cstr(v);
            unsafe { (*n).cy_valuestring = s };
            n
        }
        fn num(&mut self, parent: *mut cYAML, key: &str, v: f64) -> *mut cYAML {
            let n = self.node(parent, Some(key), CYAML_TYPE_NUMBER);
            unsafe {
                (*n).cy_valueint = v as i64;
                (*n).cy_valuedouble = v;
            }
            n
        }
    }

    #[test]
    fn named_members_of_a_sequence_group_into_items() {
        let mut b = Builder::new();
        let root = b.node(null_mut(), None, CYAML_TYPE_OBJECT);
        let net = b.node(root, Some("net"), CYAML_TYPE_ARRAY);
        b.string(net, Some("net type"), "lo");
        b.node(net, Some("local NI(s)"), CYAML_TYPE_ARRAY);
        b.string(net, Some("net type"), "tcp");
        let nis = b.node(net, Some("local NI(s)"), CYAML_TYPE_ARRAY);
        let item = b.node(nis, None, CYAML_TYPE_OBJECT);
        b.string(item, Some("nid"), "10.0.0.1@tcp");
        let v = unsafe { to_value(root) }.unwrap().unwrap();
        let want: Value = serde_yaml::from_str(
            "net:\n- net type: lo\n  local NI(s): []\n- net type: tcp\n  local NI(s):\n  - nid: 10.0.0.1@tcp\n",
        )
        .unwrap();
        assert_eq!(v, want);
    }

    #[test]
    fn scalars_convert_and_quotes_come_off() {
        let mut b = Builder::new();
        let root = b.node(null_mut(), None, CYAML_TYPE_OBJECT);
        b.string(root, Some("descr"), "\"success\"");
        b.string(root, Some("inner"), "a \"b\" c");
        b.num(root, "errno", -17.0);
        b.num(root, "half", 0.5);
        b.num(root, "big", 4_294_967_296.0);
        b.node(root, Some("t"), CYAML_TYPE_TRUE);
        b.node(root, Some("f"), CYAML_TYPE_FALSE);
        b.node(root, Some("n"), CYAML_TYPE_NULL);
        let v = unsafe { to_value(root) }.unwrap().unwrap();
        let want: Value = serde_yaml::from_str(
            "descr: success\ninner: 'a \"b\" c'\nerrno: -17\nhalf: 0.5\nbig: 4294967296\nt: true\nf: false\nn: null\n",
        )
        .unwrap();
        assert_eq!(v, want);
    }

    #[test]
    fn duplicate_keys_are_kept() {
        let mut b = Builder::new();
        let root = b.node(null_mut(), None, CYAML_TYPE_OBJECT);
        let s1 = b.node(root, Some("show"), CYAML_TYPE_ARRAY);
        b.string(s1, None, "a");
        let s2 = b.node(root, Some("show"), CYAML_TYPE_ARRAY);
        b.string(s2, None, "b");
        let v = unsafe { to_value(root) }.unwrap().unwrap();
        assert_eq!(v, serde_yaml::from_str::<Value>("show: [a, b]").unwrap());
    }

    #[test]
    fn broken_trees_are_errors_not_crashes() {
        assert_eq!(unsafe { to_value(std::ptr::null()) }, Ok(None));
        let mut b = Builder::new();
        let root = b.node(null_mut(), None, CYAML_TYPE_OBJECT);
        let child = b.node(root, Some("loop"), CYAML_TYPE_NULL);
        unsafe { (*child).cy_next = child };
        assert_eq!(unsafe { to_value(root) }, Err(TreeError::TooBig));
        let mut b = Builder::new();
        let root = b.node(null_mut(), None, CYAML_TYPE_OBJECT);
        let mut p = root;
        for _ in 0..200 {
            p = b.node(p, Some("x"), CYAML_TYPE_OBJECT);
        }
        assert_eq!(unsafe { to_value(root) }, Err(TreeError::TooDeep));
        let mut b = Builder::new();
        let root = b.node(null_mut(), None, 42);
        assert_eq!(unsafe { to_value(root) }, Err(TreeError::UnknownType(42)));
    }
}
