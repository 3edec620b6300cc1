import { resourceTypes } from "./resources.js";

const verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/** The discovery documents kubectl and client libraries read first. */
export function discovery(path: string): unknown {
  switch (path) {
    case "/version":
      return {
        major: "1",
        minor: "34",
        gitVersion: "v1.34.0-kubedriver-emulator",
        gitCommit: "",
        gitTreeState: "clean",
        buildDate: "2026-01-01T00:00:00Z",
        goVersion: "",
        compiler: "emulator",
        platform: `${process.platform}/${process.arch}`,
      };
    case "/api":
      return {
        kind: "APIVersions",
        versions: ["v1"],
        serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "" }],
      };
    case "/apis":
      return { kind: "APIGroupList", apiVersion: "v1", groups: [autoscalingGroup] };
    case "/apis/autoscaling":
      return { kind: "APIGroup", apiVersion: "v1", ...autoscalingGroup };
    case "/api/v1":
    case "/apis/autoscaling/v2":
      return resourceList(path === "/api/v1" ? "v1" : "autoscaling/v2");
    default:
      return undefined;
  }
}

const autoscalingGroup = {
  name: "autoscaling",
  versions: [{ groupVersion: "autoscaling/v2", version: "v2" }],
  preferredVersion: { groupVersion: "autoscaling/v2", version: "v2" },
};

function resourceList(groupVersion: string): unknown {
  // In name order, as kube-apiserver lists them (and so kubectl expands `all`).
  const served = resourceTypes.filter((r) => r.apiVersion === groupVersion).sort((a, b) => (a.name < b.name ? -1 : 1));
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion,
    resources: served.flatMap((r) => [
      {
        name: r.name,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: r.name === "namespaces" ? verbs.filter((v) => v !== "deletecollection") : verbs,
        shortNames: r.shortNames.length ? r.shortNames : undefined,
        categories: r.categories.length ? r.categories : undefined,
      },
      ...r.subresources.map((sub) => ({
        name: `${r.name}/${sub}`,
        singularName: "",
        namespaced: r.namespaced,
        group: sub === "scale" ? "autoscaling" : undefined,
        version: sub === "scale" ? "v1" : undefined,
        kind: sub === "scale" ? "Scale" : r.kind,
        verbs: sub === "log" ? ["get"] : ["get", "patch", "update"],
      })),
    ]),
  };
}
