import { buildInfo } from "../common/build-info.js";

/** kubedriver's version, from its package.json. */
export function version(): string {
  return buildInfo().version;
}
