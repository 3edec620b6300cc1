import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { ServerGroup } from "../../gen/kubedriver/v1/server_group.js";
import {
  type GetServerGroupResponse,
  type ListServerGroupsResponse,
  ServerGroupsService as Generated,
  type WatchServerGroupsResponse,
} from "../../gen/kubedriver/v1/server_groups.js";

/**
 * Groups served from the live view are shared objects (see
 * `serverGroupToProto`), so each is encoded once, however many answers and
 * streams carry it: a List of 1,000 groups or a change sent to 1,000
 * subscribers costs one encoding per group, not one per message. The bytes
 * are those ts-proto's encoders write (field by field, length-delimited).
 */
const groupBytes = new WeakMap<ServerGroup, Uint8Array>();
const watchBytes = new WeakMap<WatchServerGroupsResponse, Buffer>();

function encodedGroup(group: ServerGroup): Uint8Array {
  let bytes = groupBytes.get(group);
  if (!bytes) groupBytes.set(group, (bytes = ServerGroup.encode(group).finish()));
  return bytes;
}

function getResponse(m: GetServerGroupResponse): Buffer {
  const w = new BinaryWriter();
  if (m.serverGroup !== undefined) w.uint32(10).bytes(encodedGroup(m.serverGroup));
  return Buffer.from(w.finish());
}

function listResponse(m: ListServerGroupsResponse): Buffer {
  const w = new BinaryWriter();
  for (const g of m.serverGroups) w.uint32(10).bytes(encodedGroup(g));
  if (m.nextPageToken !== "") w.uint32(18).string(m.nextPageToken);
  return Buffer.from(w.finish());
}

function watchResponse(m: WatchServerGroupsResponse): Buffer {
  let bytes = watchBytes.get(m);
  if (bytes) return bytes;
  const w = new BinaryWriter();
  if (m.snapshot) w.uint32(8).bool(true);
  for (const c of m.changes) {
    const change = new BinaryWriter();
    if (c.type !== 0) change.uint32(8).int32(c.type);
    if (c.serverGroup !== undefined) change.uint32(18).bytes(encodedGroup(c.serverGroup));
    w.uint32(18).bytes(change.finish());
  }
  watchBytes.set(m, (bytes = Buffer.from(w.finish())));
  return bytes;
}

/** The ServerGroups service definition, with the responses that carry groups encoded as above. */
export const ServerGroupsService = {
  ...Generated,
  getServerGroup: { ...Generated.getServerGroup, responseSerialize: getResponse },
  listServerGroups: { ...Generated.listServerGroups, responseSerialize: listResponse },
  waitForServerGroup: { ...Generated.waitForServerGroup, responseSerialize: getResponse },
  watchServerGroups: { ...Generated.watchServerGroups, responseSerialize: watchResponse },
} as const;
