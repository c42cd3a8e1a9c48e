import { goto, type HandlerDef, stay } from "../fsm/engine.js";
import type { Leadership, LeadershipGuard } from "./leadership.js";
import { compareViews, type ViewSummary } from "./view-summary.js";

/**
 * The controller pair's election (issue 12) on an etcd lease, as a stage list on the FSM engine (`metal fsm show
 * election`). Every agent holds a lease of `ha.leaseTtlS` and keeps it alive every TTL/6 (a pipeline). The leader is whoever
 * created the leader key under its lease (a transaction: create only if the key does not exist); the key's create
 * revision is the epoch. The leader stops acting the moment its own clock says the lease may have expired (no
 * keepalive answered within the TTL), so a paused or cut-off leader is silent before the peer can be elected.
 * Split-brain rule: a leader whose heartbeat view is clearly worse than its peer's (ha.viewMargin hosts) for
 * ha.viewHoldS resigns; a standby defers its campaign while a live peer's view is clearly better (ha.deferMaxS).
 */
const SEC = 1000;

function peerView(c: Leadership): ViewSummary | undefined {
  for (const [h, v] of c.peerViews) if (h !== c.o.hostname) return v;
  return undefined;
}

function ownView(c: Leadership): ViewSummary | undefined {
  return c.o.ownView?.();
}

/** Why a leader (or standby) whose keepalives went unanswered for a TTL is not acting. */
export const noQuorum = (c: Leadership) =>
  `no keepalive answered within the lease TTL (${c.o.ha.leaseTtlS} s): etcd unreachable or without quorum${c.lastError ? ` (${c.lastError})` : ""}`;

export const electionHandler: HandlerDef<Leadership> = {
  name: "election",
  description: "elect one active mtcAgent on an etcd lease; stop acting within the TTL when the lease may be gone",
  stages: [
    {
      name: "GRANT",
      run: (c) => {
        c.launch("grant", async () => {
          const sentAt = c.now();
          const res = await c.o.etcd.leaseClient.leaseGrant({ TTL: c.o.ha.leaseTtlS });
          return { id: String(res.ID), sentAt };
        });
        return goto("GRANT_WAIT");
      },
      next: [["GRANT_WAIT"]],
    },
    {
      name: "GRANT_WAIT",
      timeoutMs: (c) => Math.max(c.ttlMs, c.o.callTimeoutMs + 100),
      run: (c) => {
        const o = c.outcome<{ id: string; sentAt: number }>("grant");
        if (o?.state !== "ok") return stay;
        c.lease = o.value.id;
        c.validUntil = o.value.sentAt + c.ttlMs;
        c.noteStandby(c.leader ? `following ${c.leader.hostname}` : "lease granted");
        return goto("OBSERVE");
      },
      onTimeout: () => goto("GRANT"),
      next: [
        ["OBSERVE", "lease granted"],
        ["GRANT", "no answer: retry"],
      ],
    },
    {
      name: "OBSERVE",
      run: (c) => {
        if (c.now() >= c.validUntil) {
          c.reason = noQuorum(c);
          return goto("GRANT");
        }
        c.observe();
        c.publish();
        if (c.leaderReadAt <= (c.run?.enteredAt ?? 0)) return stay;
        if (c.leader) {
          c.reason = `standby: ${c.leader.hostname} is active (epoch ${c.leader.epoch})`;
          c.vars.absentSince = undefined;
          return stay;
        }
        if (c.now() < c.holdUntil) return stay;
        const since = (c.vars.absentSince as number | undefined) ?? c.now();
        c.vars.absentSince = since;
        if (compareViews(ownView(c), peerView(c), c.o.ha.viewMargin) === "peer-healthier" && c.now() - since < c.o.ha.deferMaxS * SEC) {
          c.reason = "no leader; deferring to the peer, whose heartbeat view is healthier";
          return stay;
        }
        return goto("CAMPAIGN");
      },
      next: [
        ["CAMPAIGN", "no leader key"],
        ["GRANT", "lease expired"],
      ],
    },
    {
      name: "CAMPAIGN",
      run: (c) => {
        const lease = c.lease as string;
        const value = JSON.stringify({ hostname: c.o.hostname, ...(c.o.api ? { api: c.o.api } : {}) });
        c.launch("campaign", async () => {
          const res = await c.o.etcd.if(c.keys.leader, "Create", "==", 0).then(c.o.etcd.put(c.keys.leader).value(value).lease(lease)).commit();
          return { won: res.succeeded, revision: String(res.header.revision) };
        });
        return goto("CAMPAIGN_WAIT");
      },
      next: [["CAMPAIGN_WAIT"]],
    },
    {
      name: "CAMPAIGN_WAIT",
      timeoutMs: (c) => c.o.callTimeoutMs + 500,
      run: (c) => {
        const o = c.outcome<{ won: boolean; revision: string }>("campaign");
        if (!o || o.state === "pending") return stay;
        if (o.state === "fail" || !o.value.won || c.now() >= c.validUntil) return goto("OBSERVE");
        const guard: LeadershipGuard = { key: c.keys.leader, createRevision: o.value.revision, lease: c.lease as string, epoch: Number(o.value.revision) };
        c.elected(guard);
        return goto("LEADING");
      },
      onTimeout: () => goto("OBSERVE"),
      next: [
        ["LEADING", "won"],
        ["OBSERVE", "lost the race / no answer"],
      ],
    },
    {
      name: "LEADING",
      run: (c) => {
        if (c.now() >= c.validUntil) {
          c.lostReason = noQuorum(c);
          return goto("LOST");
        }
        c.observe();
        c.publish();
        const g = c.guard as LeadershipGuard;
        if (c.leaderReadAt > (c.run?.enteredAt ?? 0) && c.leader?.epoch !== g.epoch) {
          c.lostReason = c.leader ? `${c.leader.hostname} holds the leader key (epoch ${c.leader.epoch})` : "the leader key is gone";
          return goto("LOST");
        }
        if (c.resignRequested) return goto("RESIGN");
        if (compareViews(ownView(c), peerView(c), c.o.ha.viewMargin) === "peer-healthier") {
          const since = (c.vars.worseSince as number | undefined) ?? c.now();
          c.vars.worseSince = since;
          if (c.now() - since >= c.o.ha.viewHoldS * SEC) {
            const own = ownView(c)?.responding;
            const peer = peerView(c);
            c.resignRequested = `split-brain rule: ${peer?.hostname} sees ${peer?.responding} hosts responding, this controller ${own} (margin ${c.o.ha.viewMargin}, held ${c.o.ha.viewHoldS} s)`;
            return goto("RESIGN");
          }
        } else c.vars.worseSince = undefined;
        return stay;
      },
      next: [
        ["RESIGN", "swact / peer's view healthier"],
        ["LOST", "lease expired / key gone"],
      ],
    },
    {
      name: "RESIGN",
      run: (c) => {
        const g = c.guard as LeadershipGuard;
        c.depose(`resigned: ${c.resignRequested ?? "requested"}`, "resigned");
        c.resignRequested = undefined;
        c.holdUntil = c.now() + c.o.ha.resignHoldS * SEC;
        c.launch("resign", () =>
          c.o.etcd
            .if(g.key, "Create", "==", g.createRevision)
            .then(c.o.etcd.delete().key(g.key))
            .commit()
            .then(() => undefined),
        );
        return goto("RESIGN_WAIT");
      },
      next: [["RESIGN_WAIT"]],
    },
    {
      name: "RESIGN_WAIT",
      timeoutMs: (c) => c.o.callTimeoutMs + 500,
      run: (c) => (c.outcome("resign")?.state === "pending" ? stay : goto("OBSERVE")),
      onTimeout: () => goto("OBSERVE"),
      next: [["OBSERVE", "key deleted (or expires with the lease)"]],
    },
    {
      name: "LOST",
      run: (c) => {
        c.depose(c.lostReason ?? "leadership lost", "lost");
        c.lostReason = undefined;
        // The old lease may still hold the key on the server: revoke it (best effort) and start over with a new one.
        const old = c.lease;
        c.lease = undefined;
        c.validUntil = 0;
        if (old) void c.o.etcd.leaseClient.leaseRevoke({ ID: old }).catch(() => undefined);
        return goto("GRANT");
      },
      next: [["GRANT", "new lease, new election"]],
    },
  ],
};
