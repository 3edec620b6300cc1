/**
 * What other features may use of server groups: reading one to answer with
 * it, and the views that hold them. Everything else in this folder is its own.
 */
export { LiveViews } from "./live-views.js";
export type { NamespaceView } from "./live-view.js";
export { getServerGroup, groupToChange, readServerGroup, type ReadFrom } from "./read.js";
export type { ServerGroup, ServerGroupRef } from "./spec.js";
