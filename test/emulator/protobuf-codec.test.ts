import fs from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { startEmulator, type Emulator } from "../../src/emulator/index.js";
import { decodeObject, decodeWatchFrames, encodeObject, encodeWatchFrame } from "../../src/emulator/protobuf/codec.js";
import { resourceTypes } from "../../src/emulator/resources.js";
import { eventually } from "../support/cluster.js";
import real from "./fixtures/protobuf-real.json" with { type: "json" };
import { raw } from "./raw.js";

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

describe("the emulator's own objects in protobuf", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
    const kc = new KubeConfig();
    kc.loadFromString(emulator.kubeconfig());
    await raw(kc, "POST", "/api/v1/namespaces", { metadata: { name: "codec" } });
    const objects = parseAllDocuments(fs.readFileSync(new URL("./fixtures/protobuf-objects.yaml", import.meta.url), "utf8")).map((d) => d.toJSON());
    for (const obj of objects) {
      const type = resourceTypes.find((r) => r.kind === obj.kind && r.apiVersion === obj.apiVersion)!;
      const prefix = type.apiVersion === "v1" ? "/api/v1" : `/apis/${type.apiVersion}`;
      expect((await raw(kc, "POST", `${prefix}/namespaces/codec/${type.name}`, obj)).status).toBe(201);
    }
    await eventually(() => expect(emulator.objects("events", "codec").length).toBeGreaterThan(1));
  });
  afterAll(() => emulator.close());

  it("survive a round trip unchanged, every field of every served kind", () => {
    for (const type of resourceTypes) {
      const stored = emulator.objects(type.name, type.namespaced ? "codec" : undefined);
      expect(stored.length, type.name).toBeGreaterThan(0);
      for (const obj of stored) {
        const json = { ...obj, kind: type.kind, apiVersion: type.apiVersion };
        expect(decodeObject(encodeObject(json)), `${type.name} ${obj.metadata.name}`).toEqual(json);
      }
    }
  });
});
