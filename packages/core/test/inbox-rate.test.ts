import test from "ava";
import { MessageRateLog } from "../src/agent/inbox-rate.js";
import { VirtualClock } from "../src/clock/virtual-clock.js";
import { captureLogger } from "./helpers/capture-logger.js";

test("the inbox logs its message rate only when a 60 s window is above 20 msg/s (virtual time)", async (t) => {
  const clock = new VirtualClock();
  const { logger, lines } = captureLogger();
  const rate = new MessageRateLog(clock, logger, 20, 60_000);
  // 10 msg/s for a minute: quiet.
  for (let s = 0; s < 60; s++) {
    await clock.advance(1000);
    t.is(rate.add(10), undefined);
  }
  t.is(lines.length, 0);
  // 30 msg/s for the next minute: one line at the window's end.
  let reported: number | undefined;
  for (let s = 0; s < 60; s++) {
    await clock.advance(1000);
    reported = rate.add(30) ?? reported;
  }
  t.is(Math.round(reported ?? 0), 30);
  t.is(lines.filter((l) => l.msg === "mtcAgent inbox message rate above threshold").length, 1);
  t.like(lines[0], { rate: 30, windowS: 60 });
});
