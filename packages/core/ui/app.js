// metal dashboard: the hosts table and alarms live from /v1/events (Server-Sent Events), the heartbeat cluster
// vault as a heat map from /v1/cluster, a host page (history, BMC sensors), and lock/unlock/reboot buttons that
// ask for the API token once per browser tab. Plain ES modules (preact + htm served from the agent), no build.
import htm from "htm";
import { h, render } from "preact";
import { useEffect, useState } from "preact/hooks";

const html = htm.bind(h);
const TOKEN_KEY = "metal.token";

// --- the live model, fed by the event stream ------------------------------------------------------------
const model = {
  hosts: new Map(),
  alarms: new Map(),
  /** hostname -> { mgmt, clusterHost }: ok | minor | degrade | loss (from the hbsAgent's heartbeat events) */
  heartbeat: new Map(),
  connected: false,
  lastEventId: "",
  version: 0,
};
const listeners = new Set();
let scheduled = false;
function changed() {
  model.version++;
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    for (const l of listeners) l(model.version);
  });
}
const alarmKey = (a) => `${a.id}|${a.hostname}|${a.entity ?? ""}`;
const HB_STATE = { minorSet: "minor", minorClear: "ok", degradeSet: "degrade", degradeClear: "ok", loss: "loss" };

function connect() {
  const es = new EventSource("/v1/events?snapshot=1");
  const on = (type, fn) =>
    es.addEventListener(type, (ev) => {
      model.lastEventId = ev.lastEventId;
      fn(JSON.parse(ev.data));
      changed();
    });
  es.onopen = () => {
    model.connected = true;
    changed();
  };
  es.onerror = () => {
    model.connected = false;
    changed();
  };
  on("resync", () => {
    model.hosts.clear();
    model.alarms.clear();
    model.heartbeat.clear();
  });
  on("host", (s) => {
    model.hosts.set(s.hostname, s);
    // A host back in service has answered its heartbeat again.
    if (s.availability === "available" && !s.degrade.some((d) => d.startsWith("Heartbeat"))) model.heartbeat.delete(s.hostname);
  });
  on("host-removed", (d) => {
    model.hosts.delete(d.hostname);
    model.heartbeat.delete(d.hostname);
  });
  on("alarms", (list) => {
    model.alarms.clear();
    for (const a of list) model.alarms.set(alarmKey(a), a);
  });
  on("alarm", (r) => {
    if (r.operation === "set") model.alarms.set(alarmKey(r), { ...r, raisedAt: r.at });
    else if (r.operation === "clear") model.alarms.delete(alarmKey(r));
  });
  on("heartbeat", (e) => {
    const state = HB_STATE[e.kind];
    if (!state) return;
    const cur = model.heartbeat.get(e.hostname) ?? { mgmt: "ok", clusterHost: "ok" };
    model.heartbeat.set(e.hostname, { ...cur, [e.network]: state });
  });
}

function useModel() {
  const [, setV] = useState(0);
  useEffect(() => {
    listeners.add(setV);
    return () => listeners.delete(setV);
  }, []);
  return model;
}

// --- the token, asked once --------------------------------------------------------------------------------
let askToken = null;
async function token() {
  const t = sessionStorage.getItem(TOKEN_KEY);
  if (t) return t;
  return new Promise((resolve) => askToken?.(resolve));
}

async function act(host, action, setMsg) {
  const t = await token();
  if (!t) return;
  const res = await fetch(`/v1/hosts/${encodeURIComponent(host)}`, {
    method: "PATCH",
    headers: { "content-type": "application/json", authorization: `Bearer ${t}` },
    body: JSON.stringify({ action }),
  });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) sessionStorage.removeItem(TOKEN_KEY);
  setMsg(res.ok ? `${action} ${host}: accepted${body.queued ? " (queued)" : ""}` : `${action} ${host}: ${body.reason ?? `HTTP ${res.status}`}`);
}

function TokenDialog() {
  const [resolver, setResolver] = useState(null);
  const [value, setValue] = useState("");
  useEffect(() => {
    askToken = (resolve) => setResolver(() => resolve);
  }, []);
  if (!resolver) return null;
  const submit = (ev) => {
    ev.preventDefault();
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    resolver(value || null);
    setResolver(null);
    setValue("");
  };
  return html`<dialog open id="token-dialog">
    <form onSubmit=${submit}>
      <label>API token (the contents of METAL_TOKEN_FILE), kept for this tab only</label>
      <input id="token-input" type="password" autocomplete="off" value=${value} onInput=${(e) => setValue(e.target.value)} />
      <button id="token-ok" type="submit">OK</button>
    </form>
  </dialog>`;
}

// --- views --------------------------------------------------------------------------------------------------
function rowClass(s) {
  if (s.availability === "failed" || (s.administrative === "unlocked" && s.availability === "offline")) return "failed";
  if (s.availability === "degraded" || s.degrade.length) return "degraded";
  return "";
}

function Actions({ host, setMsg }) {
  return html`<span class="actions">
    <button data-action="lock" onClick=${() => act(host, "lock", setMsg)}>lock</button>
    <button data-action="unlock" onClick=${() => act(host, "unlock", setMsg)}>unlock</button>
    <button data-action="reboot" onClick=${() => act(host, "reboot", setMsg)}>reboot</button>
  </span>`;
}

function HostsTable({ setMsg }) {
  const m = useModel();
  const hosts = [...m.hosts.values()].sort((a, b) => a.hostname.localeCompare(b.hostname));
  return html`<section id="hosts">
    <h2>Hosts <span class="muted">(${hosts.length})</span></h2>
    <table>
      <thead><tr><th>host</th><th>personality</th><th>administrative</th><th>operational</th><th>availability</th><th>task</th><th>FSM stage</th><th>degrade</th><th></th></tr></thead>
      <tbody>
        ${hosts.map(
          (s) => html`<tr key=${s.hostname} data-host=${s.hostname} data-state=${`${s.administrative}-${s.operational}-${s.availability}`} class=${rowClass(s)}>
            <td><a href=${`#/host/${encodeURIComponent(s.hostname)}`}>${s.hostname}</a></td>
            <td>${s.personality}</td>
            <td class=${`state-${s.administrative}`}>${s.administrative}</td>
            <td class=${`state-${s.operational}`}>${s.operational}</td>
            <td class=${`state-${s.availability}`}>${s.availability}</td>
            <td>${s.task}</td>
            <td>${s.handler ? `${s.handler}: ${s.stage}` : ""}</td>
            <td>${s.degrade.join(", ")}</td>
            <td><${Actions} host=${s.hostname} setMsg=${setMsg} /></td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function Alarms() {
  const m = useModel();
  const alarms = [...m.alarms.values()].sort((a, b) => (b.raisedAt ?? 0) - (a.raisedAt ?? 0));
  return html`<section id="alarms">
    <h2>Active alarms <span class="muted">(${alarms.length})</span></h2>
    ${
      alarms.length === 0
        ? html`<p class="muted">none</p>`
        : html`<table>
          <thead><tr><th>id</th><th>host</th><th>severity</th><th>entity</th><th>text</th><th>raised</th></tr></thead>
          <tbody>
            ${alarms.map(
              (a) => html`<tr key=${alarmKey(a)} data-alarm=${a.id}>
                <td>${a.id}</td><td>${a.hostname}</td><td class=${`sev-${a.severity}`}>${a.severity}</td><td>${a.entity ?? ""}</td><td>${a.text}</td>
                <td>${a.raisedAt ? new Date(a.raisedAt).toLocaleTimeString() : ""}</td>
              </tr>`,
            )}
          </tbody>
        </table>`
    }
  </section>`;
}

function cellClass(e) {
  if (!e || e.enabled === 0) return "cell";
  if (e.responding >= e.enabled) return "cell ok";
  return "cell bad";
}

function hostTile(m, s) {
  const hb = m.heartbeat.get(s.hostname);
  const worst = hb ? [hb.mgmt, hb.clusterHost] : [];
  if (worst.includes("loss") || worst.includes("degrade") || s.availability === "failed") return "tile bad";
  if (worst.includes("minor")) return "tile minor";
  if (s.operational === "enabled") return "tile ok";
  return "tile";
}

function HeatMap() {
  const m = useModel();
  const [cluster, setCluster] = useState(null);
  const [err, setErr] = useState("");
  useEffect(() => {
    let stop = false;
    let timer;
    const poll = async () => {
      try {
        const res = await fetch("/v1/cluster");
        const body = await res.json();
        if (res.ok) {
          setCluster(body);
          setErr("");
        } else setErr(body.reason ?? `HTTP ${res.status}`);
      } catch (e) {
        setErr(String(e));
      }
      if (!stop) timer = setTimeout(poll, 500);
    };
    poll();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, []);
  const hosts = [...m.hosts.values()].sort((a, b) => a.hostname.localeCompare(b.hostname));
  return html`<section id="heatmap">
    <h2>Heartbeat cluster vault <span class="muted">${cluster ? `(period ${cluster.periodMs} ms, oldest left)` : ""}</span></h2>
    ${err ? html`<p class="muted">${err}</p>` : ""}
    ${
      cluster
        ? html`<div class="heat">
          ${cluster.rows.map(
            (r) => html`<div class="label">controller-${r.controller} ${r.network}</div>
              ${[...Array(Math.max(0, 20 - r.entries.length)).fill(null), ...r.entries].map(
                (
                  e,
                  i,
                ) => html`<div class=${cellClass(e)} data-row=${`${r.controller}-${r.network}`} data-period=${i} title=${e ? `${e.responding} of ${e.enabled} responding` : "no data"}>
                  ${e?.enabled ? e.enabled - e.responding || "" : ""}
                </div>`,
              )}`,
          )}
        </div>`
        : ""
    }
    <div class="tiles">
      ${hosts.map((s) => html`<div key=${s.hostname} class=${hostTile(m, s)} data-tile=${s.hostname} title=${s.hostname}></div>`)}
    </div>
    <p class="legend muted">cells: hosts enabled vs responding per period (green all, red some missing; the number is how many missed); tiles: each host's heartbeat (green ok, amber misses, red degrade/loss or failed)</p>
  </section>`;
}

function HostPage({ name, setMsg }) {
  const m = useModel();
  const s = m.hosts.get(name);
  const [history, setHistory] = useState([]);
  const [sensors, setSensors] = useState({ list: [], note: "reading…" });
  const key = s ? `${s.administrative}-${s.operational}-${s.availability}-${s.task}` : "";
  useEffect(() => {
    fetch(`/v1/hosts/${encodeURIComponent(name)}/history`)
      .then((r) => r.json())
      .then((b) => setHistory(b.history ?? []))
      .catch(() => {});
  }, [name, key]);
  useEffect(() => {
    fetch(`/v1/hosts/${encodeURIComponent(name)}/sensors`)
      .then(async (r) => {
        const b = await r.json();
        setSensors(r.ok ? { list: b.sensors, note: b.sensors.length ? "" : "no sensors" } : { list: [], note: b.reason });
      })
      .catch((e) => setSensors({ list: [], note: String(e) }));
  }, [name]);
  if (!s) return html`<section><p>no host named ${name}</p><a href="#/">back</a></section>`;
  return html`<section id="host-page" data-host=${name}>
      <h2><a href="#/">hosts</a> / ${name}</h2>
      <dl>
        <dt>state</dt><dd data-field="state">${s.administrative}-${s.operational}-${s.availability}</dd>
        <dt>personality</dt><dd>${s.personality}</dd>
        <dt>task</dt><dd>${s.task}</dd>
        <dt>FSM</dt><dd>${s.handler ? `${s.handler}: ${s.stage}` : "idle"}</dd>
        <dt>degrade</dt><dd>${s.degrade.join(", ") || "none"}</dd>
      </dl>
      <p><${Actions} host=${name} setMsg=${setMsg} /></p>
    </section>
    <section id="history"><h2>History</h2>
      <table><tbody>
        ${history
          .slice()
          .reverse()
          .map((e) => html`<tr><td>${new Date(e.at).toLocaleTimeString()}</td><td>${e.kind}</td><td>${e.text}</td></tr>`)}
      </tbody></table>
    </section>
    <section id="sensors"><h2>BMC sensors</h2>
      ${sensors.note ? html`<p class="muted">${sensors.note}</p>` : ""}
      <table><tbody>
        ${sensors.list.map((x) => html`<tr><td>${x.name}</td><td>${x.value ?? "na"} ${x.unit}</td><td>${x.status}</td></tr>`)}
      </tbody></table>
    </section>`;
}

function App() {
  const m = useModel();
  const [route, setRoute] = useState(location.hash);
  const [msg, setMsg] = useState("");
  useEffect(() => {
    const on = () => setRoute(location.hash);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  const hostRoute = /^#\/host\/(.+)$/.exec(route);
  return html`<header>
      <h1><a href="#/">metal</a></h1>
      <span class="msg" id="msg">${msg}</span>
      <span class="conn" id="conn" data-connected=${m.connected ? "yes" : "no"}>${m.connected ? "live" : "reconnecting…"}</span>
    </header>
    <main>
      ${
        hostRoute
          ? html`<${HostPage} name=${decodeURIComponent(hostRoute[1])} setMsg=${setMsg} />`
          : html`<${HostsTable} setMsg=${setMsg} /><${Alarms} /><${HeatMap} />`
      }
    </main>
    <${TokenDialog} />`;
}

connect();
const root = document.getElementById("app");
root.textContent = "";
render(html`<${App} />`, root);
