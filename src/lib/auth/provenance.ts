/**
 * Whether a stored key may be revoked on the server when this CLI lets go of it (logout, or a
 * login that replaces it). gh never revokes on logout; wrangler revokes only the OAuth tokens
 * it minted. We revoke only keys this CLI minted (login --web / --device), or a pasted one when
 * asked (logout --revoke), and never a key another profile still holds.
 */
import type { KeyObtainedBy, ResolvedKey } from "../credentials/types.js";
import type { AuthServices, StoreOptions } from "./services.js";

export type KeepReason = "pasted" | "shared";

export interface RevokeDecision {
  obtainedBy: KeyObtainedBy;
  /** Set when the key is only forgotten locally, not revoked. */
  keep?: KeepReason;
  /** Other profiles that hold the same key (when keep is "shared"). */
  sharedWith?: string[];
}

/** How a stored key was obtained; records from before the field count as pasted. */
export function obtainedBy(stored: ResolvedKey): KeyObtainedBy {
  const v = stored.record?.obtainedBy;
  return v === "web" || v === "device" ? v : "token";
}

/**
 * Decides for `stored` (the key of `profile`). `leaving` are the profiles being let go of at
 * the same time (logout --all): they do not count as holders. Other profiles are compared by
 * base URL and last four characters first, and only those are read in full.
 */
export async function decideRevoke(
  services: Pick<AuthServices, "profiles" | "storedKey">,
  profile: string,
  stored: ResolvedKey,
  options: { revokePasted?: boolean; leaving?: string[]; store: StoreOptions },
): Promise<RevokeDecision> {
  const how = obtainedBy(stored);
  if (how === "token" && !options.revokePasted) return { obtainedBy: how, keep: "pasted" };
  const leaving = new Set([profile, ...(options.leaving ?? [])]);
  const quiet: StoreOptions = { ...options.store, onWarning: undefined };
  const last4 = stored.key.slice(-4);
  const candidates = (await services.profiles(quiet).catch(() => [])).filter(
    (p) => !leaving.has(p.name) && p.keyLast4 === last4,
  );
  const sharedWith: string[] = [];
  for (const p of candidates) {
    const other = await services.storedKey(p.name, quiet).catch(() => null);
    if (other?.key === stored.key) sharedWith.push(p.name);
  }
  if (sharedWith.length > 0) return { obtainedBy: how, keep: "shared", sharedWith };
  return { obtainedBy: how };
}

/** Why a key was not revoked, for people: "it was pasted (...)" / "profile X also uses it". */
export function keepReasonText(d: RevokeDecision): string {
  if (d.keep === "shared") {
    const names = d.sharedWith ?? [];
    return `${names.length === 1 ? "profile" : "profiles"} ${names.join(", ")} also ${names.length === 1 ? "uses" : "use"} it`;
  }
  return "it was pasted (login --with-token) and may be in use elsewhere, e.g. in CI or on a server";
}
