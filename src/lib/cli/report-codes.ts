/**
 * The reports of src/lib/account and src/lib/doctor carry error codes; only the CLI turns
 * them into exit codes (the one table, ./exit-codes.ts). These add the `exitCode` fields of
 * the commands' --json output.
 */
import type { ProfileStatus, StatusReport } from "../account/status.js";
import type { Check, DoctorResult } from "../doctor/types.js";
import { ExitCode, exitCodeFor } from "./exit-codes.js";

/** 4 (not authenticated) before 5 (unreachable) before 2 (usage) before 1; else 0. */
export function overallExitCode(codes: number[]): number {
  for (const c of [ExitCode.NOT_AUTHENTICATED, ExitCode.UNREACHABLE, ExitCode.USAGE, ExitCode.FAILURE]) {
    if (codes.includes(c)) return c;
  }
  return codes.find((c) => c !== ExitCode.OK) ?? ExitCode.OK;
}

const exitOf = (code: string | null | undefined): number =>
  code === null || code === undefined ? ExitCode.OK : exitCodeFor({ code });

export type ProfileStatusWithExit = ProfileStatus & { exitCode: number };
export interface StatusReportWithExit extends Omit<StatusReport, "profiles"> {
  exitCode: number;
  profiles: ProfileStatusWithExit[];
}

/** `status`'s report with each profile's exit code and the overall one. */
export function statusWithExitCodes(report: StatusReport): StatusReportWithExit {
  const profiles = report.profiles.map((p) => ({ ...p, exitCode: exitOf(p.errorCode) }));
  const { profiles: _p, ...rest } = report;
  return { ...rest, exitCode: overallExitCode(profiles.map((p) => p.exitCode)), profiles };
}

export type CheckWithExit = Check & { exitCode?: number };
export interface DoctorResultWithExit extends Omit<DoctorResult, "checks"> {
  exitCode: number;
  checks: CheckWithExit[];
}

/** A doctor check with its exit code (failed checks only). */
export function checkWithExitCode(c: Check): CheckWithExit {
  return c.status === "fail" ? { ...c, exitCode: exitOf(c.code ?? "error") } : c;
}

/** `doctor`'s result with each failed check's exit code; the overall one is the first failure's. */
export function doctorWithExitCodes(result: DoctorResult): DoctorResultWithExit {
  const checks = result.checks.map(checkWithExitCode);
  const { checks: _c, ...rest } = result;
  return { ...rest, exitCode: exitOf(result.code), checks };
}
