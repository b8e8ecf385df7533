/** oci:// references: the grammar, version ↔ tag, and which registries may be reached over plain HTTP. */
import { describe, expect, it } from "vitest";
import {
  formatReference,
  isLoopbackRegistry,
  parseOciReference,
  parseOciRepository,
  parseRegistryHost,
  tagVersion,
  versionTag,
} from "../src/oci/reference.js";
import { nextLink } from "../src/oci/tag-list.js";

const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("oci:// references", () => {
  it("parse host, port, nested repository, tag and digest (the digest wins when both are given)", () => {
    expect(parseOciReference("oci://Registry.Example.com:5000/team/addons/longhorn:1.2.0")).toEqual({
      registry: "registry.example.com:5000",
      repository: "team/addons/longhorn",
      tag: "1.2.0",
    });
    const both = parseOciReference(`oci://[::1]:5000/a/b:1.0.0@${DIGEST}`);
    expect(both).toEqual({ registry: "[::1]:5000", repository: "a/b", tag: "1.0.0", digest: DIGEST });
    expect(formatReference(both)).toBe(`oci://[::1]:5000/a/b@${DIGEST}`);
  });

  it.each([
    ["oci://host/repo", "it names no version: add :VERSION or @sha256:DIGEST"],
    ["oci://host:/repo:1.0.0", '"host:" is not a registry host[:port]'],
    ["oci:///repo:1.0.0", "expected oci://HOST/REPOSITORY"],
    ["oci://host/Repo:1.0.0", '"Repo" is not a valid repository path component'],
    ["oci://host/a//b:1.0.0", '"" is not a valid repository path component'],
    ["oci://host/repo:-x", '"-x" is not a valid tag'],
    ["oci://host/repo@sha256:abc", '"sha256:abc" is not a sha256:<64 lowercase hex> digest'],
    [`oci://host/${"a".repeat(256)}:1`, "the repository is longer than 255 characters"],
  ])("refuse %s (exit 2)", (raw, message) => {
    expect(() => parseOciReference(raw)).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringContaining(message) }));
  });

  it("a repository takes no tag or digest", () => {
    expect(parseOciRepository("oci://host:5000/team/addons/", "the push destination")).toEqual({
      registry: "host:5000",
      repository: "team/addons",
    });
    expect(() => parseOciRepository("oci://host/team/addons:1", "the push destination")).toThrow(
      'the push destination "oci://host/team/addons:1" must be a repository, without :TAG or @DIGEST',
    );
  });

  it("versions become tags with + written as _, and only semver tags are versions", () => {
    expect(versionTag("1.0.0+build.7")).toBe("1.0.0_build.7");
    expect(tagVersion("1.0.0_build.7")).toBe("1.0.0+build.7");
    expect(tagVersion("2.0.0-rc.1")).toBe("2.0.0-rc.1");
    for (const tag of ["latest", "catalog", `sha256-${"ab".repeat(32)}.sig`, "v1.0.0", "1.0"]) expect(tagVersion(tag)).toBeUndefined();
  });

  it("registry hosts for login and settings", () => {
    expect(parseRegistryHost("oci://Registry.Example.com:5000/")).toBe("registry.example.com:5000");
    expect(() => parseRegistryHost("https://registry.example.com")).toThrow("expected HOST or HOST:PORT");
  });

  it("plain HTTP is allowed without --plain-http only to loopback registries", () => {
    for (const host of ["127.0.0.1:5000", "127.1.2.3", "localhost:5000", "[::1]:5000"]) expect(isLoopbackRegistry(host)).toBe(true);
    for (const host of ["registry.example.com", "10.0.0.1:5000", "127.0.0.1.nip.io:5000", "localhost.example.com", "[::2]:5000"]) {
      expect(isLoopbackRegistry(host)).toBe(false);
    }
  });

  it("a Link header's next page", () => {
    expect(nextLink('</v2/_catalog?last=b&n=1>; rel="next"')).toBe("/v2/_catalog?last=b&n=1");
    expect(nextLink(undefined)).toBeUndefined();
    expect(nextLink('</v2/x>; rel="prev"')).toBeUndefined();
  });
});
