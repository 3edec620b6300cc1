import { describe, expect, it } from "vitest";
import { decodeObject, decodeWatchFrames, encodeObject, encodeWatchFrame } from "../../src/emulator/protobuf/codec.js";
import real from "./fixtures/protobuf-real.json" with { type: "json" };

// What kube-apiserver v1.36.3 answered for the same objects in JSON and in
// protobuf (fixtures/capture-protobuf.sh): the codec must read the real
// server's bytes as its JSON, and write JSON that reads back unchanged.
describe("the Kubernetes protobuf codec", () => {
  for (const { json, protobuf } of real as { json: any; protobuf: string }[]) {
    it(`reads kube-apiserver's protobuf ${json.kind} as its JSON`, () => {
      expect(decodeObject(Buffer.from(protobuf, "base64"))).toEqual(json);
    });

    it(`writes a ${json.kind} that reads back as the same JSON`, () => {
      expect(decodeObject(encodeObject(json))).toEqual(json);
    });
  }

  it("frames watch events as length-prefixed WatchEvents holding an enveloped object", () => {
    const ns = (real as { json: any }[]).find((f) => f.json.kind === "Namespace")!.json;
    const frames = Buffer.concat([encodeWatchFrame("ADDED", ns), encodeWatchFrame("DELETED", ns)]);
    const { events, rest } = decodeWatchFrames(frames.subarray(0, frames.length - 3));
    expect(events).toEqual([{ type: "ADDED", object: ns }]);
    expect(decodeWatchFrames(Buffer.concat([rest, frames.subarray(frames.length - 3)])).events).toEqual([{ type: "DELETED", object: ns }]);
  });

  it("refuses a body without the k8s envelope as the API server does", () => {
    expect(() => decodeObject(Buffer.from("{}"), "Namespace")).toThrow(/provided data does not appear to be a protobuf message, expected prefix \[107 56 115 0\]/);
  });
});
