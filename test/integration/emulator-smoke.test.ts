import { describe, expect, it } from "vitest";
import { api, SAMPLE_BODIES, useEmulator, waitForRender } from "../helpers/emulator.js";

describe("emulator smoke", () => {
  const emu = useEmulator({ renderDurationMs: 100 });
  it("creates a render and downloads it", async () => {
    const res = await api(emu(), "/api/render", { json: SAMPLE_BODIES["/api/render"] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { renderId: string };
    const done = await waitForRender(emu(), body.renderId);
    expect(done.status).toBe("done");
    const file = await fetch(String(done.outputFile));
    const bytes = Buffer.from(await file.arrayBuffer());
    expect(bytes.length).toBe(65536);
    expect(bytes.subarray(4, 8).toString()).toBe("ftyp");
  });
});
