// Trait changes, mapped to what shows them. The table is the whole rule; selected_lr (selection.js),
// height (layout.js) and the sidebar traits (placement_watch.js) are followed by the part they concern.

/** For each trait, the bus topics a change of it is shown by, in order. */
export const TRAIT_TOPICS = Object.freeze({
  status: ["status", "selection", "draw"],
  step: ["status"],
  num_iter: ["status"],
  elapsed: ["status"],
  eta: ["status"],
  diverged_lr: ["status", "selection", "draw"],
  error: ["status"],
  title: ["status"],
  hint: ["status", "draw"],
  pending_apply: ["status", "selection", "draw"],
  suggestions: ["suggestions", "selection", "draw"],
  applied_lr: ["selection", "draw"],
  start_lr: ["selection", "draw"],
  end_lr: ["selection", "draw"],
  step_mode: ["selection", "draw"],
});

/** The writer thread sets these while a run is alive: a change counts as contact with the kernel. */
export const CONTACT_TRAITS = Object.freeze([
  "status",
  "step",
  "num_iter",
  "elapsed",
  "eta",
  "diverged_lr",
  "error",
  "title",
  "pending_apply",
]);

/** Follow the traits of TRAIT_TOPICS. Returns the cleanup. */
export function mountTraitWatch({ port, view, bus }) {
  const offs = Object.entries(TRAIT_TOPICS).map(([name, topics]) =>
    port.on(`change:${name}`, () => {
      if (CONTACT_TRAITS.includes(name)) view.lastTraitContact = view.now();
      for (const t of topics) bus.emit(t);
    }),
  );
  return () => {
    for (const off of offs) off();
  };
}
