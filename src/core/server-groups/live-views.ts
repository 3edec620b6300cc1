import type { ReflectorOptions } from "../../kube/reflector.js";
import type { Account } from "../accounts/account.js";
import { NamespaceViews } from "../shared/namespace-views.js";
import { NamespaceView } from "./live-view.js";

/** Every managed namespace's server-group view: one LIST+WATCH each of RCs, pods and HPAs per account namespace. */
export class LiveViews extends NamespaceViews<NamespaceView> {
  constructor(accounts: () => readonly Account[], options: ReflectorOptions = {}) {
    super(accounts, (account, namespace) => new NamespaceView(account, namespace, options));
  }
}
