// @ts-check
/**
 * A tiny Acme BMC for development and CI: `node emulator.js PASSWORD_FILE` listens on 127.0.0.1 (a free port),
 * prints `acme-bmc listening on 127.0.0.1:PORT` and serves the three Acme calls for user `admin` until SIGTERM.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const password = readFileSync(process.argv[2] ?? "", "utf8").replace(/\r?\n$/, "");
const expected = `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`;
let state = "off";

const server = createServer((req, res) => {
  const send = (/** @type {number} */ code, /** @type {unknown} */ body) => {
    res.writeHead(code, { "content-type": "application/json" });
    res.end(body === undefined ? "" : JSON.stringify(body));
  };
  if (req.headers.authorization !== expected) return send(401, { error: "unauthorized" });
  let body = "";
  req.on("data", (c) => {
    body += c;
    if (body.length > 4096) req.destroy();
  });
  req.on("end", () => {
    if (req.url === "/acme/v1/power" && req.method === "GET") return send(200, { state });
    if (req.url === "/acme/v1/info" && req.method === "GET")
      return send(200, { manufacturer: "Acme", model: "Roadrunner 1", serial: "ACME-0001", firmware: "1.2.3", state });
    if (req.url === "/acme/v1/power" && req.method === "POST") {
      let action;
      try {
        action = JSON.parse(body).action;
      } catch {
        return send(400, { error: "bad JSON" });
      }
      if (!["on", "off", "cycle", "reset"].includes(action)) return send(400, { error: "bad action" });
      state = action === "off" ? "off" : "on";
      return send(204);
    }
    return send(404, { error: "not found" });
  });
});

server.listen(0, "127.0.0.1", () => {
  const a = server.address();
  process.stdout.write(`acme-bmc listening on 127.0.0.1:${typeof a === "object" && a ? a.port : 0}\n`);
});
for (const sig of ["SIGTERM", "SIGINT"]) process.once(sig, () => server.close(() => process.exit(0)));
