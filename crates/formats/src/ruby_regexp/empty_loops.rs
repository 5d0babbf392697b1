//! Onigmo's test for an empty iteration of a loop with capture groups in it, run on Oniguruma
//! with two callouts per loop.
//!
//! When an iteration of a loop whose body may match the empty string ends where it started,
//! Onigmo (its `STACK_NULL_CHECK_MEMST`) reads the value each capture group entered in the
//! iteration held before it: one that had no value or held text lets the loop go on; failing
//! that, one that held the empty string somewhere else than where the iteration started fails
//! the iteration (Ruby then tries another way); else the loop ends. Oniguruma 6.9.10 goes on or
//! ends alike for the capture groups a back-reference outside the loop names (its
//! `EMPTY_CHECK_END_MEMST`, an empty value elsewhere counting as unchanged), and ends the loop
//! on any empty iteration otherwise. So the loop runs on Oniguruma written
//! `(?:(*LFS{k})(?:body)(*LFE{k}))*(?:(?!)\1\2)?`: the never-matching back-references give the
//! loop Oniguruma's capture test for each group in its body, and the callouts add Onigmo's
//! failing case. `LFS` (at each iteration's start) records where it starts and the capture
//! groups' values, on a stack that backtracking unwinds (the callout's retraction); `LFE` (at its
//! end) fails an empty iteration that Onigmo fails.
//!
//! The stack lives in the search's match parameters (one per search, so patterns run on several
//! threads at once); the callouts are registered once, by name, for UTF-8.

use std::os::raw::{c_int, c_long, c_void};
use std::sync::Once;

use onig_sys::{OnigCalloutArgs, OnigValue};

/// The callout at an iteration's start.
pub(crate) const START: &str = "LFS";
/// The callout at an iteration's end.
pub(crate) const END: &str = "LFE";

/// One iteration's start: the loop, where it started, and where its capture values are in
/// [`Iterations::values`].
struct Frame {
    looped: c_long,
    at: c_int,
    values: usize,
}

/// The iterations of instrumented loops under way in one search, innermost last.
#[derive(Default)]
pub(crate) struct Iterations {
    frames: Vec<Frame>,
    /// Each frame's capture values (begin, end of groups 1, 2 …), one after the other.
    values: Vec<c_int>,
}

static REGISTER: Once = Once::new();

/// Register the two callouts (once; before any pattern using them is compiled).
pub(crate) fn register() {
    REGISTER.call_once(|| {
        // Oniguruma initializes itself on its first compile; the names go in after that.
        let _ = onig::Regex::new("a");
        for (name, func) in [
            (
                START,
                start as unsafe extern "C" fn(*mut OnigCalloutArgs, *mut c_void) -> c_int,
            ),
            (END, end),
        ] {
            let mut name = name.as_bytes().to_vec();
            let mut types = [onig_sys::OnigType_ONIG_TYPE_LONG];
            let range = name.as_mut_ptr_range();
            // SAFETY: the name and argument types outlive the call, which copies them; the
            // functions are `extern "C"` with Oniguruma's callout signature; UTF-8 is a static
            // encoding. Run once, before any pattern naming the callouts is compiled.
            let r = unsafe {
                onig_sys::onig_set_callout_of_name(
                    std::ptr::addr_of_mut!(onig_sys::OnigEncodingUTF8),
                    onig_sys::OnigCalloutType_ONIG_CALLOUT_TYPE_SINGLE,
                    range.start,
                    range.end,
                    (onig_sys::OnigCalloutIn_ONIG_CALLOUT_IN_PROGRESS
                        | onig_sys::OnigCalloutIn_ONIG_CALLOUT_IN_RETRACTION)
                        as c_int,
                    Some(func),
                    None,
                    1,
                    types.as_mut_ptr(),
                    0,
                    std::ptr::null_mut(),
                )
            };
            debug_assert!(r >= 0, "registering callout {r}");
        }
    });
}

/// The loop number of a callout (its one argument).
///
/// # Safety
/// `args` is the callout's own argument block.
unsafe fn loop_of(args: *mut OnigCalloutArgs) -> Option<c_long> {
    let mut kind: onig_sys::OnigType = 0;
    let mut value = OnigValue { l: 0 };
    let r = onig_sys::onig_get_arg_by_callout_args(args, 0, &mut kind, &mut value);
    (r == 0 && kind == onig_sys::OnigType_ONIG_TYPE_LONG).then_some(value.l)
}

/// Where the match is now, in bytes from the string's start.
///
/// # Safety
/// `args` is the callout's own argument block.
unsafe fn position(args: *mut OnigCalloutArgs) -> c_int {
    let s = onig_sys::onig_get_string_by_callout_args(args);
    let now = onig_sys::onig_get_current_by_callout_args(args);
    now.offset_from(s) as c_int
}

/// The capture groups' values now: begin and end of groups 1, 2 … (`ONIG_REGION_NOTPOS` for a
/// group without a value), appended to `out`.
///
/// # Safety
/// `args` is the callout's own argument block.
unsafe fn captures(args: *mut OnigCalloutArgs, out: &mut Vec<c_int>) {
    let reg = onig_sys::onig_get_regex_by_callout_args(args);
    let n = onig_sys::onig_number_of_captures(reg);
    for g in 1..=n {
        let (mut b, mut e) = (onig_sys::ONIG_REGION_NOTPOS, onig_sys::ONIG_REGION_NOTPOS);
        if onig_sys::onig_get_capture_range_in_callout(args, g, &mut b, &mut e) != 0 {
            b = onig_sys::ONIG_REGION_NOTPOS;
            e = b;
        }
        out.push(b);
        out.push(e);
    }
}

const GO_ON: c_int = onig_sys::OnigCalloutResult_ONIG_CALLOUT_SUCCESS as c_int;
const FAIL: c_int = onig_sys::OnigCalloutResult_ONIG_CALLOUT_FAIL as c_int;

fn retracting(args: *mut OnigCalloutArgs) -> bool {
    // SAFETY: `args` is the callout's own argument block.
    unsafe {
        onig_sys::onig_get_callout_in_by_callout_args(args)
            == onig_sys::OnigCalloutIn_ONIG_CALLOUT_IN_RETRACTION
    }
}

/// `LFS{k}`: record the iteration's start; on backtracking past it, forget it.
unsafe extern "C" fn start(args: *mut OnigCalloutArgs, user: *mut c_void) -> c_int {
    // SAFETY: `user` is null or the `Iterations` of the search under way, which only this
    // search's thread touches (see `search_data`).
    let Some(its) = (unsafe { user.cast::<Iterations>().as_mut() }) else {
        return GO_ON;
    };
    let Some(looped) = (unsafe { loop_of(args) }) else {
        return GO_ON;
    };
    if retracting(args) {
        if its.frames.last().is_some_and(|f| f.looped == looped) {
            if let Some(f) = its.frames.pop() {
                its.values.truncate(f.values);
            }
        }
        return GO_ON;
    }
    let values = its.values.len();
    // SAFETY: `args` is this callout's argument block.
    let at = unsafe { position(args) };
    unsafe { captures(args, &mut its.values) };
    its.frames.push(Frame { looped, at, values });
    GO_ON
}

/// `LFE{k}`: fail an empty iteration that Onigmo fails.
unsafe extern "C" fn end(args: *mut OnigCalloutArgs, user: *mut c_void) -> c_int {
    if retracting(args) {
        return GO_ON;
    }
    // SAFETY: as in `start`.
    let Some(its) = (unsafe { user.cast::<Iterations>().as_mut() }) else {
        return GO_ON;
    };
    let Some(looped) = (unsafe { loop_of(args) }) else {
        return GO_ON;
    };
    let Some(frame) = its.frames.iter().rev().find(|f| f.looped == looped) else {
        return GO_ON;
    };
    // SAFETY: `args` is this callout's argument block.
    let at = unsafe { position(args) };
    if at != frame.at {
        return GO_ON;
    }
    let now_at = its.values.len();
    unsafe { captures(args, &mut its.values) };
    let width = its.values.len() - now_at;
    // (Every frame holds one value pair per group; `get` keeps a panic out of C's frames.)
    let before = its.values.get(frame.values..frame.values + width);
    let fails = before.is_some_and(|b| onigmo_fails(b, &its.values[now_at..], at));
    its.values.truncate(now_at);
    if fails {
        FAIL
    } else {
        GO_ON
    }
}

/// Onigmo's verdict on an empty iteration ending at `at`, from the capture values before it and
/// now (pairs of begin, end): does it fail? A group entered in the iteration holds the empty
/// string at `at` now (or the same value as before, which tells nothing): one that held no value
/// or text before lets the loop go on; failing that, one that held the empty string elsewhere
/// fails the iteration.
fn onigmo_fails(before: &[c_int], now: &[c_int], at: c_int) -> bool {
    let mut fails = false;
    for (b, n) in before.chunks_exact(2).zip(now.chunks_exact(2)) {
        if b == n {
            continue;
        }
        if b[0] == onig_sys::ONIG_REGION_NOTPOS || b[0] != b[1] {
            return false;
        }
        if b[0] != at {
            fails = true;
        }
    }
    fails
}

#[cfg(test)]
mod tests {
    use super::onigmo_fails;

    #[test]
    fn verdicts() {
        let none = onig_sys::ONIG_REGION_NOTPOS;
        // Empty elsewhere before: fails.
        assert!(onigmo_fails(&[0, 0], &[1, 1], 1));
        // No value before, or text: goes on.
        assert!(!onigmo_fails(&[none, none], &[1, 1], 1));
        assert!(!onigmo_fails(&[0, 1], &[1, 1], 1));
        assert!(!onigmo_fails(&[0, 0, 0, 1], &[1, 1, 1, 1], 1));
        // Empty here before, or untouched: ends.
        assert!(!onigmo_fails(&[1, 1], &[1, 1], 1));
        assert!(!onigmo_fails(&[0, 0], &[0, 0], 1));
    }
}

#[cfg(test)]
mod search_tests {
    use std::time::Duration;

    use crate::ruby_regexp::compile;

    /// Ruby 3.1's matches: `$1` of `/(?:(a?)b?)*c/` on `bc` is the empty string at 0 (the
    /// second iteration, empty at 1, fails), and of `/(?:(a?)|b)*c/` on `abc` at 1.
    #[test]
    fn loops_run_on_several_threads() {
        let a = compile(r"(?:(a?)b?)*c", "").unwrap();
        let b = compile(r"(?:(a?)|b)*c", "").unwrap();
        assert_eq!(a.engine(), "oniguruma");
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (a, b) = (a.clone(), b.clone());
                std::thread::spawn(move || {
                    for _ in 0..500 {
                        let c = a.captures_at("bc", 0).unwrap();
                        assert_eq!((c.whole(), c.get(1)), ((0, 2), Some((0, 0))));
                        let c = b.captures_at("abc", 0).unwrap();
                        assert_eq!((c.whole(), c.get(1)), ((0, 3), Some((1, 1))));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }

    /// A search that runs out of time or retries leaves nothing behind for the next one.
    #[test]
    fn bounded_searches_start_afresh() {
        let re = compile(r"(?:(a?)(?:a|b?)*)*c", "").unwrap();
        assert_eq!(re.engine(), "oniguruma");
        let long = "ab".repeat(40);
        let r = re.captures_within(&long, 0, Some(Duration::from_millis(5)));
        assert!(matches!(r, Err(_) | Ok(None)));
        let c = re.captures_within("bc", 0, None).unwrap().unwrap();
        assert_eq!((c.whole(), c.get(1)), ((0, 2), Some((0, 0))));
    }
}
