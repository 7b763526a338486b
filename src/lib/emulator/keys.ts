/** API keys and the accounts that own them. */
import { randomBytes, randomUUID } from "node:crypto";
import type { EmulatorKey } from "./types.js";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export const DEMO_EMAIL = "demo@gigareels.local";

/**
 * The published key format (gigareels-api.md, part A), as the server reads it. The emulator
 * shares no code with the client side (credentials, SDK), so that a misreading of the
 * contract on either side shows in the tests instead of agreeing with itself.
 */
const KEY_FORMAT = /^giga_[A-Za-z0-9]{32}$/;

export function isKeyFormat(key: string): boolean {
  return KEY_FORMAT.test(key);
}

/** `giga_****` plus the last four characters: how the emulator's log shows a key. */
export function maskForLog(key: string): string {
  return key.length >= 12 ? `giga_****${key.slice(-4)}` : "giga_****";
}

/** Masks every key-looking part of a text before the emulator logs or stores it. */
export function redactForLog(text: string): string {
  return text.replace(/giga_[A-Za-z0-9]{4,}/g, maskForLog);
}

/** A random string of `length` ASCII letters and digits (no modulo bias). */
export function randomAlphanumeric(length: number, alphabet = ALPHANUMERIC): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 256 - (256 % n) keeps the distribution uniform.
      if (byte < 256 - (256 % alphabet.length)) out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

export function generateKey(): string {
  return `giga_${randomAlphanumeric(32)}`;
}

export interface Account {
  id: string;
  email: string;
  name: string;
}

function nameFromEmail(email: string): string {
  const local = email.split("@")[0] ?? email;
  const words = local.split(/[._+-]+/).filter(Boolean);
  return words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join(" ") || "GigaReels User";
}

export class KeyStore {
  private readonly keys = new Map<string, EmulatorKey>();
  private readonly accounts = new Map<string, Account>();
  private keyCounter = 0;

  constructor(private readonly defaultPlan: string) {
    this.account(DEMO_EMAIL, "Demo User");
  }

  /** The account for an email, created on first use. */
  account(email: string, name?: string): Account {
    const normalized = email.trim().toLowerCase();
    let account = this.accounts.get(normalized);
    if (!account) {
      account = {
        id: `acct_${randomUUID().replace(/-/g, "").slice(0, 16)}`,
        email: normalized,
        name: name ?? nameFromEmail(normalized),
      };
      this.accounts.set(normalized, account);
    }
    return account;
  }

  /** Registers `key` (or a new one) and returns its metadata. */
  add(
    key: string,
    options: { createdAt?: Date; plan?: string; email?: string; name?: string; keyName?: string } = {},
  ): EmulatorKey {
    if (!isKeyFormat(key)) throw new Error("An emulator key must be giga_ followed by 32 letters or digits");
    const account = this.account(options.email ?? DEMO_EMAIL, options.name);
    this.keyCounter++;
    const info: EmulatorKey = {
      key,
      id: `key_${randomAlphanumeric(16).toLowerCase()}`,
      name: options.keyName ?? `Emulator key ${this.keyCounter}`,
      createdAt: (options.createdAt ?? new Date()).toISOString(),
      revoked: false,
      account: { ...account },
      plan: options.plan ?? this.defaultPlan,
    };
    this.keys.set(key, info);
    return info;
  }

  create(
    options: { createdAt?: Date; plan?: string; email?: string; name?: string; keyName?: string } = {},
  ): EmulatorKey {
    return this.add(generateKey(), options);
  }

  get(key: string): EmulatorKey | undefined {
    return this.keys.get(key);
  }

  revoke(key: string): boolean {
    const info = this.keys.get(key);
    if (!info) return false;
    info.revoked = true;
    return true;
  }

  /** The key behind an Authorization header, or undefined when missing, malformed, unknown or revoked. */
  authenticate(header: string | undefined): EmulatorKey | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
    const key = match?.[1];
    if (!key || !isKeyFormat(key)) return undefined;
    const info = this.keys.get(key);
    return info && !info.revoked ? info : undefined;
  }
}
