import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { ServerGroup } from "../../gen/kubedriver/v1/server_group.js";
import {
  type GetServerGroupResponse,
  type ListServerGroupsResponse,
  ServerGroupsService as Generated,
  type WatchServerGroupsResponse,
} from "../../gen/kubedriver/v1/server_groups.js";
import { maxMessageBytes } from "./paging.js";

/**
 * Groups served from the live view are shared objects (see
 * `serverGroupToProto`), so each is encoded once, however many answers and
 * streams carry it: a List of 1,000 groups or a change sent to 1,000
 * subscribers costs one encoding per group, not one per message. The bytes
 * are those ts-proto's encoders write (field by field, length-delimited).
 */
const groupFields = new WeakMap<ServerGroup, Buffer>();
const listBytes = new WeakMap<ListServerGroupsResponse, Buffer>();
const watchBytes = new WeakMap<WatchServerGroupsResponse, Buffer>();
const watchParts = new WeakMap<WatchServerGroupsResponse, readonly WatchServerGroupsResponse[]>();

/**
 * A group as field 1, the field that carries groups in both Get's and List's
 * answers: a List is these bytes put end to end. Past its one-byte tag, it is
 * the length and bytes any other field carrying the group writes.
 */
function groupField(group: ServerGroup): Buffer {
  let field = groupFields.get(group);
  if (!field) {
    const w = new BinaryWriter().uint32(10).bytes(ServerGroup.encode(group).finish()).finish();
    groupFields.set(group, (field = Buffer.from(w.buffer, w.byteOffset, w.byteLength)));
  }
  return field;
}

/** The group as a length-delimited value, to be written after a field's tag. */
function delimitedGroup(group: ServerGroup): Uint8Array {
  return groupField(group).subarray(1);
}

/** A group's bytes in a Get or List answer, for sizing pages. */
export function encodedSize(group: ServerGroup): number {
  return groupField(group).length;
}

function getResponse(m: GetServerGroupResponse): Buffer {
  return m.serverGroup === undefined ? Buffer.alloc(0) : groupField(m.serverGroup);
}

/** A page shared by its callers (see `pageToProto`) is encoded once. */
function listResponse(m: ListServerGroupsResponse): Buffer {
  let bytes = listBytes.get(m);
  if (bytes) return bytes;
  const fields = m.serverGroups.map(groupField);
  if (m.nextPageToken !== "") fields.push(Buffer.from(new BinaryWriter().uint32(18).string(m.nextPageToken).finish()));
  listBytes.set(m, (bytes = Buffer.concat(fields)));
  return bytes;
}

function watchResponse(m: WatchServerGroupsResponse): Buffer {
  let bytes = watchBytes.get(m);
  if (bytes) return bytes;
  const w = new BinaryWriter();
  if (m.snapshot) w.uint32(8).bool(true);
  for (const c of m.changes) {
    const change = new BinaryWriter();
    if (c.type !== 0) change.uint32(8).int32(c.type);
    if (c.serverGroup !== undefined) change.uint32(18).raw(delimitedGroup(c.serverGroup));
    w.uint32(18).bytes(change.finish());
  }
  if (m.continued) w.uint32(24).bool(true);
  watchBytes.set(m, (bytes = Buffer.from(w.finish())));
  return bytes;
}

/**
 * A WatchServerGroups message as parts of at most `maxMessageBytes` (one
 * group may be alone and larger), each but the last `continued`, the first
 * keeping `snapshot`. A message shared by every subscriber is split once.
 */
export function splitWatchResponse(m: WatchServerGroupsResponse): readonly WatchServerGroupsResponse[] {
  let parts = watchParts.get(m);
  if (parts) return parts;
  const runs: (typeof m.changes)[] = [[]];
  let bytes = 0;
  for (const change of m.changes) {
    // The change's own framing (its type, two tags and lengths) is at most 16 bytes.
    const size = (change.serverGroup ? groupField(change.serverGroup).length : 0) + 16;
    if (bytes + size > maxMessageBytes && runs.at(-1)!.length) {
      runs.push([]);
      bytes = 0;
    }
    runs.at(-1)!.push(change);
    bytes += size;
  }
  parts = runs.length === 1 ? [m] : runs.map((changes, i) => ({ snapshot: m.snapshot && i === 0, changes, continued: i < runs.length - 1 }));
  watchParts.set(m, parts);
  return parts;
}

/** The ServerGroups service definition, with the responses that carry groups encoded as above. */
export const ServerGroupsService = {
  ...Generated,
  getServerGroup: { ...Generated.getServerGroup, responseSerialize: getResponse },
  listServerGroups: { ...Generated.listServerGroups, responseSerialize: listResponse },
  waitForServerGroup: { ...Generated.waitForServerGroup, responseSerialize: getResponse },
  watchServerGroups: { ...Generated.watchServerGroups, responseSerialize: watchResponse },
} as const;
