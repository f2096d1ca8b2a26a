// Types only: the view state (the widget's synced traits) and the messages, as JSDoc for `tsc --checkJs`.
// The list is lrwidget/views/view_state.py's ViewState; tests/test_view_state.py checks the two agree.

/**
 * The widget's synced traits (a saved notebook's state may hold anything: the parts read it through
 * model_port.js, which checks).
 * @typedef {Object} ViewState
 * @property {string} status "idle", "running", "done", "diverged", "stopped", "exhausted" or "error"
 * @property {number} step readings so far
 * @property {number} num_iter readings asked for
 * @property {number} elapsed seconds since the start
 * @property {number | null} eta estimated seconds left
 * @property {number | null} start_lr
 * @property {number | null} end_lr
 * @property {string} step_mode "exp" or "linear"
 * @property {number | null} diverged_lr
 * @property {Suggestion[]} suggestions
 * @property {number | null} selected_lr
 * @property {number | null} applied_lr
 * @property {boolean} pending_apply
 * @property {string} error
 * @property {DataView | ArrayBuffer | null} saved_readings
 * @property {string} title
 * @property {string} hint
 * @property {number} height
 * @property {number} sidebar_views
 * @property {boolean} sidebar_fallback
 * @property {number[] | null} selected_range [lo, hi]: the brushed range, both ends tested lrs (issue 19)
 * @property {number[] | null} suggested_range [lo, hi]: what a schedule uses with nothing brushed
 * @property {string} schedule_kind the picker's kind (rules.json "schedule")
 * @property {number} total_steps the schedule's steps
 * @property {SchedulePreview | null} preview lr(step) of the schedule, as the kernel computed it
 * @property {Object | null} schedule_applied what Apply schedule attached: {kind, lo, hi, total_steps, max_lrs}
 * @property {string} schedule_error why the last schedule command was refused ("" when it was not)
 * @property {string} view_key the widget's name among the page's views (focus_carry.js)
 */

/**
 * The `preview` trait: the steps the kernel evaluated the real scheduler at and its lrs (group 0).
 * @typedef {Object} SchedulePreview
 * @property {string} kind
 * @property {number} lo
 * @property {number} hi
 * @property {number} total_steps
 * @property {number[]} steps
 * @property {number[]} lrs
 */

/**
 * One entry of `suggestions`, as model_port.js hands it out.
 * @typedef {Object} Suggestion
 * @property {string} name
 * @property {number | null} lr
 * @property {number | null} index
 * @property {string} reason
 * @property {boolean} default
 */

/**
 * A command a view sends (the kernel checks each: lrwidget/channel/protocol.py parse_command).
 * @typedef {{type: "hello"} | {type: "stop"} | {type: "select", lr: number | null, index: number | null}
 *   | {type: "apply", lr: number | null} | {type: "placement", view: string, where: string}
 *   | {type: "scale_lr", factor: number, rollback: boolean}
 *   | {type: "training_zoom", lo: number, hi: number, cols: number, req: number}
 *   | {type: "select_range", lo: number | null, hi: number | null}
 *   | {type: "schedule_preview" | "apply_schedule", kind: string, total_steps: number}} Command
 */

/**
 * A message the kernel sends (DESIGN.md "Widget protocol"); `readings` comes with three float64 buffers, `line`
 * (a finished run's line, drawn without lag) with one.
 * @typedef {{type: "run", run_id: number, num_iter: number, start_lr: number, end_lr: number, step_mode: string}
 *   | {type: "readings", run_id: number, seq: number, start: number, count: number, replay: boolean}
 *   | {type: "line", run_id: number, count: number}
 *   | {type: "heartbeat", t: number}} KernelMessage
 */

export {};
