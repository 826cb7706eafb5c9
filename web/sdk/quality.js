// Connection quality per participant, from the receiver's WebRTC stats (no I/O here: the caller passes stats
// and the time). Loss over the last interval, jitter (RFC 3550 section 6.4.1, as inbound-rtp reports it) and
// the round trip to the edge (the selected ICE candidate pair's currentRoundTripTime) give good / fair / poor,
// with thresholds near what Zoom and Jitsi call a bad connection (a few percent loss, a few hundred ms).

export const THRESHOLDS = {
  good: { loss: 0.02, rttMs: 150, jitterMs: 30 },
  fair: { loss: 0.08, rttMs: 400, jitterMs: 100 },
};

/** "good" | "fair" | "poor" for one interval's loss (0..1), round trip and jitter (ms; null: unknown). */
export function grade({ loss = 0, rttMs = null, jitterMs = null }) {
  const within = (limit) => loss <= limit.loss && (rttMs ?? 0) <= limit.rttMs && (jitterMs ?? 0) <= limit.jitterMs;
  return within(THRESHOLDS.good) ? "good" : within(THRESHOLDS.fair) ? "fair" : "poor";
}

export class QualityMeter {
  constructor() {
    this._last = new Map(); // mid -> {received, lost}
  }

  /**
   * `inbound`: [{mid, participantId, packetsReceived, packetsLost, jitter (s)}]; `rttMs`: the connection's round
   * trip (null: unknown). Returns Map participantId -> {grade, loss, rttMs, jitterMs}; the worst of a
   * participant's tracks wins. Counters that went backwards (a new session) start over.
   */
  update(inbound, rttMs = null) {
    const per = new Map();
    const seen = new Set();
    for (const s of inbound) {
      seen.add(s.mid);
      const before = this._last.get(s.mid);
      this._last.set(s.mid, { received: s.packetsReceived, lost: s.packetsLost });
      let loss = 0;
      if (before && s.packetsReceived >= before.received && s.packetsLost >= before.lost) {
        const got = s.packetsReceived - before.received;
        const lost = s.packetsLost - before.lost;
        loss = got + lost > 0 ? lost / (got + lost) : 0;
      }
      const jitterMs = s.jitter === null || s.jitter === undefined ? null : s.jitter * 1000;
      const result = { grade: grade({ loss, rttMs, jitterMs }), loss, rttMs, jitterMs };
      const worse = per.get(s.participantId);
      if (!worse || rank(result.grade) > rank(worse.grade)) per.set(s.participantId, result);
    }
    for (const mid of this._last.keys()) if (!seen.has(mid)) this._last.delete(mid);
    return per;
  }
}

function rank(g) {
  return g === "poor" ? 2 : g === "fair" ? 1 : 0;
}
