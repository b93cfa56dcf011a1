// archive: filled in by its own change.
export {};
