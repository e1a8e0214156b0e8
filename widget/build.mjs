// Builds the static pages' scripts into dist/ (esbuild, pinned) and writes dist/csp.json with the
// hash of the one <style> element yivi-frontend injects, so the pages can run under a strict CSP
// without 'unsafe-inline'. Run via `make widget-build` (after `npm ci`).
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import vm from "node:vm";

const entries = {
  "agent-app": "src/agent/app-main.ts",
  "agent-streams": "src/agent/streams-main.ts",
  "agent-sim": "src/agent/sim-main.ts",
  "agent-sim-streams": "src/agent/sim-streams-main.ts",
  citizen: "src/citizen/main.ts",
  "dev-ccp": "src/dev/ccp.ts",
  "dev-wallet": "src/dev/wallet.ts",
};

mkdirSync("dist", { recursive: true });
await build({
  entryPoints: entries,
  outdir: "dist",
  bundle: true,
  format: "iife",
  target: ["es2020"],
  minify: true,
  sourcemap: false,
  legalComments: "linked",
  logLevel: "warning",
  define: { "process.env.NODE_ENV": '"production"' },
});

// yivi-frontend's bundled style-loader inserts its CSS as a <style> element at load time. Run the
// UMD bundle against a stub document to capture that text and hash it (CSP hash-source).
function injectedStyles(file) {
  const styles = [];
  const node = (tag) => ({
    tag, children: [], attrs: {},
    setAttribute(k, v) { this.attrs[k] = v; }, removeAttribute() {},
    appendChild(c) { this.children.push(c); if (this.tag === "style") styles.push(this); return c; },
    insertBefore(c) { return this.appendChild(c); }, removeChild() {},
    get firstChild() { return this.children[0] ?? null; },
    set textContent(v) { this.children = [{ text: v }]; },
  });
  const head = node("head");
  const document = {
    baseURI: "http://localhost/", head, createElement: node, createTextNode: (text) => ({ text }),
    querySelector: (s) => (s === "head" ? head : null), getElementsByTagName: () => [head],
  };
  const window = { document, navigator: { userAgent: "node" }, location: { href: "http://localhost/" } };
  window.self = window;
  const ctx = vm.createContext({ self: window, window, document, navigator: window.navigator, module: { exports: {} }, console, URL, URLSearchParams });
  ctx.exports = ctx.module.exports;
  try {
    vm.runInContext(readFileSync(file, "utf8"), ctx);
  } catch {
    // the bundle injects its style first, then touches browser APIs the stub lacks: that is fine
  }
  return styles.map((s) => s.children.map((c) => c.text).join(""));
}

const css = injectedStyles("node_modules/@privacybydesign/yivi-frontend/dist/yivi.js");
if (css.length === 0) throw new Error("found no injected yivi-frontend style: the CSP hash step needs updating");
// style-loader appends the element empty and fills it afterwards; Chromium checks both states.
const hashes = ["", ...css].map((t) => "'sha256-" + createHash("sha256").update(t, "utf8").digest("base64") + "'");
writeFileSync("dist/csp.json", JSON.stringify({ citizen_style_hashes: hashes }, null, 2) + "\n");
console.log(`built ${Object.keys(entries).length} bundles; yivi style hashes: ${hashes.length}`);
