/** Placeholder: the plugin lands here (see docs/DESIGN.md). */
export class Plugin {}
