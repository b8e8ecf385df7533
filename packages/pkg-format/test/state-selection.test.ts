/**
 * Choosing the state backend, and the one way a PostgreSQL URL is shown:
 * with its password masked, whatever libpq URL form carries it.
 */
import { describe, expect, it } from "vitest";
import { UsageError } from "../src/errors.js";
import { maskedUrl, parseStateBackend, urlPassword, urlWithoutPassword } from "../src/state/selection.js";

describe("parseStateBackend", () => {
  it("local by default and by name; postgres:// and postgresql:// URLs", () => {
    expect(parseStateBackend(undefined, "PK3S_STATE_BACKEND")).toEqual({ kind: "local" });
    expect(parseStateBackend("local", "--state-backend")).toEqual({ kind: "local" });
    expect(parseStateBackend("postgresql://u@h/db", "X")).toEqual({ kind: "postgres", url: "postgresql://u@h/db", origin: "X" });
    // libpq forms a WHATWG URL would reject: a socket directory, several hosts.
    expect(parseStateBackend("postgres://u@/db?host=/run/postgresql", "X").kind).toBe("postgres");
    expect(parseStateBackend("postgres://u:p@h1:5432,h2:5432/db", "X").kind).toBe("postgres");
  });

  it("anything else is a usage error (exit 2) that never prints the value", () => {
    for (const value of ["mysql://root:hunter2@db/x", "hunter2", "postgres://u:hunter2 @h/db"]) {
      const err = (() => {
        try {
          parseStateBackend(value, "PK3S_STATE_BACKEND");
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).exitCode).toBe(2);
      expect((err as UsageError).message).not.toContain("hunter2");
      expect((err as UsageError).message).toMatch(
        /^PK3S_STATE_BACKEND (must be "local" or a postgres:\/\/ URL|is not a valid postgres:\/\/ URL)/,
      );
    }
  });
});

describe("PostgreSQL URLs: masked, without password, the password", () => {
  const cases: [url: string, masked: string, without: string, password: string | undefined][] = [
    [
      "postgres://u:p%40ss@h:5432/db?sslmode=disable",
      "postgres://u:****@h:5432/db?sslmode=disable",
      "postgres://u@h:5432/db?sslmode=disable",
      "p@ss",
    ],
    ["postgres://u:p@ss/x@h/db", "postgres://u:****@h/db", "postgres://u@h/db", "p@ss/x"],
    [
      "postgres://h/db?user=u&password=s3cret&x=1#f",
      "postgres://h/db?user=u&password=****&x=1#f",
      "postgres://h/db?user=u&x=1#f",
      "s3cret",
    ],
    ["postgres:///db?host=/tmp/s&sslpassword=k", "postgres:///db?host=/tmp/s&sslpassword=****", "postgres:///db?host=/tmp/s", undefined],
    [
      "postgres://user@/db?host=/run/postgresql",
      "postgres://user@/db?host=/run/postgresql",
      "postgres://user@/db?host=/run/postgresql",
      undefined,
    ],
    ["postgresql://u:p@h1:5432,h2:5432/db", "postgresql://u:****@h1:5432,h2:5432/db", "postgresql://u@h1:5432,h2:5432/db", "p"],
    ["postgres://u:@h/db", "postgres://u:@h/db", "postgres://u@h/db", undefined],
  ];
  it.each(cases)("%s", (url, masked, without, password) => {
    expect(maskedUrl(url)).toBe(masked);
    expect(urlWithoutPassword(url)).toBe(without);
    expect(urlPassword(url)).toBe(password);
  });
});
