// The rollup node's status page: reads this node's own JSON-RPC over WebSocket (same origin),
// falling back to HTTP polling, and renders it with plain DOM (never innerHTML with data).
"use strict";

(() => {
  const FAST_MS = 1000;
  const SLOW_MS = 3000;
  const WINDOW_S = 300;
  const BUCKET_S = 10;
  const MAX_STATS = 1024;
  const RECENT_TXS = 12;
  const CALL_TIMEOUT_MS = 15000;
  const SVG = "http://www.w3.org/2000/svg";
  const L2_BRIDGE = "0x4200000000000000000000000000000000000010";
  // keccak256("WithdrawalInitiated(uint256,address,address,address,address,uint256,bytes32)")
  const WITHDRAWAL_INITIATED = "0x688e71708eb64abb3d8170e96cebe3ac2d0cc2d4e85ff9d8552c803b7e12c1b0";

  const $ = (id) => document.getElementById(id);

  // --- DOM helpers ---------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }

  function fillBody(table, rows, columns, empty) {
    const body = $(table).tBodies[0];
    if (rows.length === 0) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: columns }, empty)));
    } else {
      body.replaceChildren(...rows);
    }
  }

  function badge(text, kind) {
    return el("span", { class: "badge " + kind }, text);
  }

  // --- formatting ----------------------------------------------------------------------------

  const num = (value) => (value === null || value === undefined ? "—" : Number(value).toLocaleString("en-US"));

  function big(value) {
    if (value === null || value === undefined) return 0n;
    return typeof value === "bigint" ? value : BigInt(value);
  }

  function quantity(value) {
    if (typeof value === "number") return value;
    return value === null || value === undefined ? null : Number(BigInt(value));
  }

  function units(value, decimals, digits) {
    const amount = big(value);
    const scale = 10n ** BigInt(decimals);
    const whole = amount / scale;
    let fraction = (amount % scale).toString().padStart(decimals, "0").slice(0, digits).replace(/0+$/, "");
    return whole.toLocaleString("en-US") + (fraction ? "." + fraction : "");
  }

  const blocks = (count) => num(count) + (count === 1 ? "\u00a0block" : "\u00a0blocks");

  const ether = (wei) => units(wei, 18, 6) + " ETH";

  function amount(value, token) {
    if (!token || /^0x0{40}$/i.test(token)) return ether(value);
    return units(value, 18, 6) + " of token " + short(token);
  }

  function short(hash) {
    if (!hash) return "—";
    return hash.length > 14 ? hash.slice(0, 8) + "…" + hash.slice(-6) : hash;
  }

  function ago(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 90) return seconds + "\u00a0s";
    if (seconds < 5400) return Math.round(seconds / 60) + "\u00a0min";
    if (seconds < 172800) return (seconds / 3600).toFixed(1) + "\u00a0h";
    return (seconds / 86400).toFixed(1) + "\u00a0d";
  }

  function time(unixSeconds, text) {
    if (!unixSeconds) return document.createTextNode("—");
    const date = new Date(unixSeconds * 1000);
    return el("time", { datetime: date.toISOString(), title: date.toISOString() }, text || date.toISOString().replace(".000Z", "Z"));
  }

  function nowSeconds() {
    return state.heads ? state.heads.now + (Date.now() - state.headsAt) / 1000 : Date.now() / 1000;
  }

  function searchLink(value, text) {
    return el("a", { href: "#q=" + value, "data-hash": value, title: value, class: "hash" }, text || short(value));
  }

  function hashText(value) {
    return el("span", { class: "hash", title: value, "data-hash": value }, short(value));
  }

  // --- JSON-RPC ------------------------------------------------------------------------------

  class RpcError extends Error {
    constructor(error) {
      super(error && error.message ? error.message : String(error));
      this.code = error && error.code;
    }
  }

  class Rpc {
    constructor(onMode) {
      this.onMode = onMode;
      this.ws = null;
      this.pending = new Map();
      this.nextId = 1;
      this.failures = 0;
      this.httpWorks = null;
      this.connect();
    }

    connect() {
      const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/";
      let ws;
      try {
        ws = new WebSocket(url);
      } catch (_) {
        this.failed();
        return;
      }
      this.ws = ws;
      ws.onopen = () => {
        this.failures = 0;
        this.onMode("live", "Live over WebSocket");
      };
      ws.onmessage = (event) => {
        let message;
        try {
          message = JSON.parse(event.data);
        } catch (_) {
          return;
        }
        const call = this.pending.get(message.id);
        if (!call) return;
        this.pending.delete(message.id);
        clearTimeout(call.timer);
        if (message.error) call.reject(new RpcError(message.error));
        else call.resolve(message.result);
      };
      ws.onerror = () => {};
      ws.onclose = () => {
        this.ws = null;
        for (const call of this.pending.values()) {
          clearTimeout(call.timer);
          call.reject(new RpcError({ message: "WebSocket closed" }));
        }
        this.pending.clear();
        this.failed();
      };
    }

    failed() {
      this.failures += 1;
      this.onMode(this.httpWorks === false ? "down" : "polling",
        this.httpWorks === false ? "Cannot reach this node; retrying" : "Polling over HTTP (WebSocket unavailable)");
      const delay = Math.min(30000, 1000 * 2 ** Math.min(this.failures, 5));
      setTimeout(() => this.connect(), delay);
    }

    call(method, params) {
      params = params || [];
      if (this.ws && this.ws.readyState === WebSocket.OPEN) return this.viaWebSocket(method, params);
      return this.viaHttp(method, params);
    }

    viaWebSocket(method, params) {
      const id = this.nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new RpcError({ message: method + " timed out" }));
        }, CALL_TIMEOUT_MS);
        this.pending.set(id, { resolve, reject, timer });
        this.ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
      });
    }

    async viaHttp(method, params) {
      const id = this.nextId++;
      let message;
      try {
        const response = await fetch("/", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
        });
        message = await response.json();
        if (this.httpWorks === false && !this.ws) this.onMode("polling", "Polling over HTTP (WebSocket unavailable)");
        this.httpWorks = true;
      } catch (err) {
        this.httpWorks = false;
        if (!this.ws) this.onMode("down", "Cannot reach this node; retrying");
        throw new RpcError({ message: "cannot reach the node: " + err.message });
      }
      if (message.error) throw new RpcError(message.error);
      return message.result;
    }
  }

  // --- state ---------------------------------------------------------------------------------

  const state = {
    heads: null,
    headsAt: 0,
    stats: new Map(),
    lastStat: null,
    txs: [],
    txBlocksSeen: new Set(),
    batches: [],
    deposits: [],
    withdrawals: [],
    proposals: null,
    disputes: null,
    roles: null,
  };

  const rpc = new Rpc((mode, text) => {
    const connection = $("connection");
    connection.dataset.state = mode;
    connection.textContent = text;
  });

  // --- heads ---------------------------------------------------------------------------------

  function origin(origin) {
    if (!origin) return null;
    return el("span", { class: "sub" }, "L1 origin #" + num(origin.number),
      origin.timestamp ? [" · ", time(origin.timestamp, ago(nowSeconds() - origin.timestamp) + "\u00a0ago")] : null);
  }

  function renderHeads() {
    const heads = state.heads;
    const row = (name, key, head, behind) =>
      el("tr", { "data-head": key, "data-number": head.number },
        el("th", { scope: "row" }, name),
        el("td", {}, searchLink(String(head.number), "#" + num(head.number)),
          " · ", time(head.timestamp, ago(nowSeconds() - head.timestamp) + "\u00a0ago"),
          origin(head.l1Origin)),
        el("td", { class: "wrap" }, behind));
    const lag = (value, of) => value.blocks === 0 && value.seconds === 0 ? "level with " + of
      : blocks(value.blocks) + ", " + ago(value.seconds) + " behind " + of;
    const cursorBehind = heads.l1Cursor.behind
      ? lag(heads.l1Cursor.behind, "L1 head #" + num(heads.l1Head.number))
      : "L1 head unknown" + (heads.l1Error ? ": " + heads.l1Error : "");
    fillBody("heads", [
      row("Unsafe L2", "unsafe", heads.unsafeL2, "newest block, sealed " + ago(heads.unsafeL2.behind.seconds) + "\u00a0ago"),
      row("Safe L2", "safe", heads.safeL2, lag(heads.safeL2.behind, "unsafe")),
      row("Finalized L2", "finalized", heads.finalizedL2, lag(heads.finalizedL2.behind, "unsafe")),
      el("tr", { "data-head": "l1", "data-number": heads.l1Cursor.number },
        el("th", { scope: "row" }, "L1 cursor"),
        el("td", {}, "L1 #" + num(heads.l1Cursor.number),
          " · ", time(heads.l1Cursor.timestamp, ago(nowSeconds() - heads.l1Cursor.timestamp) + "\u00a0ago"),
          el("span", { class: "sub" }, "L1 finalized #" + num(heads.l1Finalized.number))),
        el("td", { class: "wrap" }, cursorBehind)),
    ], 3, "");
  }

  // --- charts --------------------------------------------------------------------------------

  function buckets(end) {
    const count = WINDOW_S / BUCKET_S;
    const start = end - WINDOW_S;
    const rows = Array.from({ length: count }, () => ({ blocks: 0, txs: 0, gas: 0, baseFee: null }));
    const ordered = [...state.stats.values()].sort((a, b) => a.number - b.number);
    for (const stat of ordered) {
      if (stat.timestamp <= start || stat.timestamp > end) continue;
      const index = Math.min(count - 1, Math.floor((stat.timestamp - start - 1) / BUCKET_S));
      const bucket = rows[index];
      bucket.blocks += 1;
      bucket.txs += stat.txCount;
      bucket.gas += stat.gasUsed;
      if (stat.baseFee !== null && stat.baseFee !== undefined) bucket.baseFee = stat.baseFee;
    }
    let last = null;
    for (const bucket of rows) {
      if (bucket.baseFee === null) bucket.baseFee = last;
      else last = bucket.baseFee;
    }
    return rows;
  }

  // `format` turns a value into text with its unit.
  function chart(title, values, format) {
    const width = 300;
    const height = 72;
    const present = values.filter((v) => v !== null);
    const max = Math.max(...present, 0);
    const current = present.length ? present[present.length - 1] : null;
    const barWidth = width / values.length;
    const id = "chart-" + title.toLowerCase().replace(/[^a-z]+/g, "-");
    const bars = values.map((value, i) => {
      const h = max > 0 && value ? Math.max(1, (value / max) * (height - 4)) : 0;
      return svg("rect", { class: "bar", x: (i * barWidth + 0.5).toFixed(1), y: (height - h).toFixed(1), width: Math.max(1, barWidth - 1).toFixed(1), height: h.toFixed(1) });
    });
    const now = current === null ? "—" : format(current);
    const summary = title + ": now " + now + ", peak " + format(max) + " (10-second buckets over 5 minutes)";
    return el("figure", {},
      svg("svg", { class: "chart", viewBox: "0 0 " + width + " " + height, preserveAspectRatio: "none", role: "img", "aria-labelledby": id },
        svg("title", { id }, summary),
        svg("line", { class: "axis", x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5 }),
        ...bars),
      el("figcaption", {}, el("strong", {}, title),
        "now " + now + " · peak " + format(max)));
  }

  function renderCharts() {
    if (!state.heads) return;
    const rows = buckets(state.heads.now);
    const perSecond = (v) => v / BUCKET_S;
    const rate = (unit) => (v) => (v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(v >= 10 ? 1 : 2)) + " " + unit;
    const fee = (wei) => wei >= 1e6 ? (wei / 1e9).toFixed(wei >= 1e9 ? 2 : 4) + " gwei" : Math.round(wei).toLocaleString("en-US") + " wei";
    $("charts").replaceChildren(
      chart("Blocks per second", rows.map((b) => perSecond(b.blocks)), rate("blocks/s")),
      chart("Transactions per second", rows.map((b) => perSecond(b.txs)), rate("tx/s")),
      chart("Gas per second", rows.map((b) => perSecond(b.gas)), (v) => Math.round(v).toLocaleString("en-US") + " gas/s"),
      chart("Base fee", rows.map((b) => b.baseFee), fee),
    );
  }

  // --- recent transactions -------------------------------------------------------------------

  function txKind(tx) {
    if (tx.type === "0x7e") return "deposit";
    if (!tx.to) return "create";
    if (tx.input && tx.input !== "0x") return "call";
    return "transfer";
  }

  async function loadTransactions(newStats) {
    const withTxs = newStats.filter((s) => s.txCount > 0 && !state.txBlocksSeen.has(s.number)).slice(-RECENT_TXS);
    for (const stat of withTxs) {
      state.txBlocksSeen.add(stat.number);
      const block = await rpc.call("eth_getBlockByNumber", ["0x" + stat.number.toString(16), true]);
      if (!block) continue;
      const receipts = await rpc.call("eth_getBlockReceipts", ["0x" + stat.number.toString(16)]);
      block.transactions.forEach((tx, i) => {
        state.txs.unshift({ tx, receipt: receipts && receipts[i], block: stat.number });
      });
    }
    state.txs.sort((a, b) => b.block - a.block || quantity(b.tx.transactionIndex) - quantity(a.tx.transactionIndex));
    state.txs = state.txs.slice(0, RECENT_TXS);
    renderTransactions();
  }

  function renderTransactions() {
    fillBody("transactions", state.txs.map(({ tx, receipt, block }) =>
      el("tr", { "data-tx": tx.hash },
        el("td", {}, searchLink(tx.hash)),
        el("td", { class: "num" }, searchLink(String(block), "#" + num(block))),
        el("td", {}, txKind(tx)),
        el("td", {}, searchLink(tx.from)),
        el("td", {}, tx.to ? searchLink(tx.to) : "—"),
        el("td", { class: "num" }, ether(tx.value)),
        el("td", {}, receipt ? (receipt.status === "0x1" ? badge("success", "good") : badge("failed", "bad")) : "—"))),
    7, "No transactions in the last blocks yet.");
  }

  // --- batches, proposals, bridge, roles -------------------------------------------------------

  function renderBatches() {
    const statusBadge = (b) => b.status === "derived" ? badge("derived", "good")
      : b.status === "ignored" ? badge("ignored", "idle") : badge("dropped", "bad");
    fillBody("batches", state.batches.map((b) =>
      el("tr", { "data-l1-tx": b.l1TxHash },
        el("td", { class: "num" }, "#" + num(b.l1Block),
          el("span", { class: "sub" }, time(b.l1Timestamp, ago(nowSeconds() - b.l1Timestamp) + "\u00a0ago"))),
        el("td", {}, hashText(b.l1TxHash)),
        el("td", { class: "num" }, b.firstL2Block === null ? "none"
          : b.firstL2Block === b.lastL2Block ? searchLink(String(b.firstL2Block), "#" + num(b.firstL2Block))
          : el("span", {}, searchLink(String(b.firstL2Block), "#" + num(b.firstL2Block)), "–", searchLink(String(b.lastL2Block), "#" + num(b.lastL2Block)))),
        el("td", { class: "num" }, num(b.txCount)),
        el("td", { class: "num" }, num(b.bytes)),
        el("td", { class: "num" }, b.bytesPerTx === null ? "—" : num(b.bytesPerTx)),
        el("td", { class: "num" }, b.l1GasUsed === null ? "unknown" : num(b.l1GasUsed)),
        el("td", { class: "wrap" }, statusBadge(b), b.reason ? el("span", { class: "sub" }, b.reason) : null))),
    8, "No batch posted to L1 yet.");
  }

  function renderProposals() {
    const data = state.proposals;
    if (data && data.error) {
      $("proposals-note").textContent = data.error;
      fillBody("proposals", [], 7, "Proposals live on L1 and this node cannot read them now.");
      return;
    }
    if (!data) return;
    $("proposals-note").textContent = num(data.count) + " proposals on L1; challenge period " + ago(data.challengePeriod) + ".";
    const rows = [...data.proposals].reverse().map((p) => {
      const status = p.status === "final" ? badge("final", "good") : p.status === "removed" ? badge("removed", "bad") : badge("pending", "warn");
      const finality = p.status === "removed" ? "never"
        : p.secondsToFinality > 0 ? el("span", {}, "in " + ago(p.secondsToFinality), el("span", { class: "sub" }, time(p.finalAt)))
        : el("span", {}, "since ", time(p.finalAt, ago(data.l1Time - p.finalAt) + "\u00a0ago"));
      const local = p.matchesLocal === true ? badge("agrees", "good") : p.matchesLocal === false ? badge("DIFFERS", "bad") : badge("block not known", "idle");
      return el("tr", { "data-proposal": p.index },
        el("td", { class: "num" }, num(p.index)),
        el("td", { class: "num" }, searchLink(String(p.l2Block), "#" + num(p.l2Block))),
        el("td", {}, hashText(p.stateRoot)),
        el("td", {}, status),
        el("td", {}, finality),
        el("td", { class: "num" }, ether(p.bond), p.bondReturned ? el("span", { class: "sub" }, "returned") : null),
        el("td", {}, local));
    });
    fillBody("proposals", rows, 7, "No proposal on L1 yet.");
  }

  function renderDisputes() {
    const data = state.disputes;
    if (data && data.error) {
      $("disputes-note").textContent = data.error;
      fillBody("disputes", [], 7, "Games live on L1 and this node cannot read them now.");
      return;
    }
    if (!data) return;
    $("disputes-note").textContent = num(data.count) + " games on L1; each side's clock " + ago(data.maxClockDuration)
      + ", challenger bond " + ether(data.challengerBond) + ".";
    const rows = [...data.games].reverse().map((g) => {
      const status = g.status === "in_progress" ? badge(g.turn + " to move", "warn")
        : g.status === "proposer_won" ? badge("proposer won", "good")
        : g.status === "challenger_won" ? badge("challenger won", "bad") : badge(g.status, "idle");
      const level = g.level === 0 ? "L2 blocks" : "trace of #" + num(g.l2Block);
      const deadline = g.deadline ? el("span", {}, "in " + ago(g.deadline - data.l1Time), el("span", { class: "sub" }, time(g.deadline))) : "—";
      return el("tr", { "data-game": g.id },
        el("td", { class: "num" }, num(g.id)),
        el("td", { class: "num" }, num(g.proposal)),
        el("td", {}, hashText(g.challenger)),
        el("td", {}, level),
        el("td", { class: "num" }, num(g.lo) + "–" + num(g.hi)),
        el("td", {}, status),
        el("td", {}, deadline));
    });
    fillBody("disputes", rows, 7, "No game on L1 yet: no proposal has been challenged.");
  }

  function depositStatus(d) {
    if (d.status === "pending") return badge("waiting for L2", "warn");
    const text = d.status + (d.success === false ? ", failed on L2" : "");
    return badge(text, d.success === false ? "bad" : d.status === "unsafe" ? "warn" : "good");
  }

  function renderDeposits() {
    const kinds = { eth: "ETH deposit", erc20: "token deposit", forcedWithdrawal: "forced withdrawal" };
    fillBody("deposits", state.deposits.map((d) =>
      el("tr", { "data-deposit": d.l2TxHash },
        el("td", { class: "num" }, d.nonce === null ? "—" : num(d.nonce)),
        el("td", {}, kinds[d.kind] || d.kind),
        el("td", { class: "num" }, amount(d.amount, d.l1Token)),
        el("td", {}, searchLink(d.to)),
        el("td", {}, d.l1TxHash ? hashText(d.l1TxHash) : "unknown",
          el("span", { class: "sub" }, "L1 #" + num(d.l1Block))),
        el("td", {}, searchLink(d.l2TxHash), d.l2Block === null ? null : el("span", { class: "sub" }, "L2 #" + num(d.l2Block))),
        el("td", {}, depositStatus(d)))),
    7, "No deposit seen yet.");
  }

  const STAGES = {
    initiated: ["initiated", "warn", "waiting for a proposal"],
    proposed: ["proposed", "warn", "covered by a proposal; prove it"],
    proven: ["proven", "warn", "proven; finalize once final"],
    finalized: ["finalized", "good", "paid out on L1"],
  };

  function renderWithdrawals() {
    fillBody("withdrawals", state.withdrawals.map((w) => {
      const stage = w.stage ? STAGES[w.stage] : null;
      return el("tr", { "data-withdrawal": w.l2TxHash },
        el("td", {}, searchLink(w.l2TxHash), el("span", { class: "sub" }, "L2 #" + num(w.l2Block) + (w.kind === "withdrawal" ? "" : " (" + w.kind + ")"))),
        el("td", { class: "num" }, amount(w.amount, w.l1Token)),
        el("td", {}, hashText(w.to)),
        el("td", {}, badge(w.l2Status, w.l2Status === "unsafe" ? "warn" : "good")),
        el("td", { class: "wrap" }, stage ? badge(stage[0], stage[1]) : badge("unknown", "idle"),
          el("span", { class: "sub" }, stage ? stage[2] : w.l1Error || "")),
        el("td", {}, w.finalAt ? (w.finalAt > nowSeconds() ? el("span", {}, "in " + ago(w.finalAt - nowSeconds()), el("span", { class: "sub" }, time(w.finalAt))) : time(w.finalAt)) : "—"));
    }), 6, "No withdrawal in the recent L2 blocks.");
  }

  function renderRoles() {
    if (!state.roles) return;
    const now = Date.now();
    const event = (e, kind) => e
      ? el("span", {}, badge(ago((now - e.atMs) / 1000) + "\u00a0ago", kind), el("span", { class: "sub" }, e.message))
      : el("span", { class: "sub" }, "never");
    fillBody("roles", state.roles.roles.map((r) => {
      // The node decides it by the order of the reports: an alarm reported in the same
      // millisecond as the round's success still counts, a success after an error ends it.
      const failing = r.failing;
      return el("tr", { "data-role": r.name },
        el("th", { scope: "row" }, r.name,
          el("span", { class: "sub" }, failing ? "failing: last attempt failed" : r.lastSuccess ? "working" : "no work yet"),
          el("span", { class: "sub" }, num(r.successes) + " done · " + num(r.errors) + " errors")),
        el("td", { class: "wrap" }, event(r.lastSuccess, "good")),
        el("td", { class: "wrap" }, event(r.lastError, "bad")));
    }), 3, "This node reports no roles.");
  }

  // --- polling -------------------------------------------------------------------------------

  function pruneStats() {
    const head = state.heads.unsafeL2.number;
    const oldest = state.heads.now - WINDOW_S - BUCKET_S;
    for (const [number, stat] of state.stats) {
      if (number > head || stat.timestamp < oldest) state.stats.delete(number);
    }
    if (state.lastStat !== null && state.lastStat > head) state.lastStat = head;
  }

  async function refreshFast() {
    state.heads = await rpc.call("rollup_getHeads");
    state.headsAt = Date.now();
    renderHeads();
    const head = state.heads.unsafeL2.number;
    const wanted = state.lastStat === null ? MAX_STATS : Math.min(MAX_STATS, head - state.lastStat);
    let fresh = [];
    if (wanted > 0) {
      fresh = await rpc.call("rollup_getBlockStats", [wanted]);
      for (const stat of fresh) state.stats.set(stat.number, stat);
      state.lastStat = head;
    }
    pruneStats();
    renderCharts();
    if (fresh.length) await loadTransactions(fresh);
    $("updated").textContent = new Date().toLocaleTimeString("en-GB");
  }

  async function refreshSlow() {
    const jobs = [
      rpc.call("rollup_getRecentBatches", [10]).then((v) => { state.batches = v; renderBatches(); }),
      rpc.call("rollup_getDeposits", [10]).then((v) => { state.deposits = v; renderDeposits(); }),
      rpc.call("rollup_getWithdrawals", [10]).then((v) => { state.withdrawals = v; renderWithdrawals(); }),
      rpc.call("rollup_getRoles").then((v) => { state.roles = v; renderRoles(); }),
      rpc.call("rollup_getProposals", [null, 10])
        .then((v) => { state.proposals = v; renderProposals(); })
        .catch((err) => { state.proposals = { error: err.message }; renderProposals(); }),
      rpc.call("rollup_getDisputes", [null, 10])
        .then((v) => { state.disputes = v; renderDisputes(); })
        .catch((err) => { state.disputes = { error: err.message }; renderDisputes(); }),
    ];
    const results = await Promise.allSettled(jobs);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  function loop(refresh, period) {
    const run = async () => {
      try {
        await refresh();
      } catch (err) {
        $("updated").textContent = "failed (" + err.message + "), retrying";
      }
      setTimeout(run, period);
    };
    run();
  }

  // --- search --------------------------------------------------------------------------------

  function facts(pairs) {
    return el("dl", { class: "facts" }, pairs.filter(Boolean).map(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
  }

  function headOf(number) {
    const heads = state.heads;
    if (!heads) return "unknown";
    if (number <= heads.finalizedL2.number) return "finalized";
    if (number <= heads.safeL2.number) return "safe (derived from L1)";
    return "unsafe (not yet derived from L1)";
  }

  function batchOf(number) {
    return state.batches.find((b) => b.firstL2Block !== null && b.firstL2Block <= number && number <= b.lastL2Block);
  }

  function showResult(title, ...content) {
    $("result").hidden = false;
    $("result-title").textContent = title;
    $("result-body").replaceChildren(...content);
    $("result-title").focus();
  }

  function withdrawalPath(status) {
    const w = status.withdrawal;
    const mark = (done) => (done === true ? "✓ done" : done === false ? "… pending" : "? unknown");
    return [
      el("h3", {}, "Withdrawal of " + amount(w.amount, w.l1Token) + " to " + w.to + " on L1"),
      el("ol", { class: "path", "aria-label": "Path to L1" }, status.path.map((step) =>
        el("li", { "data-step": step.step, "data-done": String(step.done) },
          el("span", { class: "mark" }, mark(step.done)), " ", el("strong", {}, step.step), ": ", step.detail,
          step.at ? [" (", time(step.at), ")"] : null))),
    ];
  }

  async function searchTransaction(hash) {
    const tx = await rpc.call("eth_getTransactionByHash", [hash]);
    if (!tx) {
      const block = await rpc.call("eth_getBlockByHash", [hash, false]);
      if (block) return searchBlock(quantity(block.number));
      const deposit = state.deposits.find((d) => d.l1TxHash && d.l1TxHash.toLowerCase() === hash.toLowerCase());
      if (deposit) {
        return showResult("L1 deposit transaction", facts([
          ["L1 transaction", hash], ["L2 transaction", searchLink(deposit.l2TxHash, deposit.l2TxHash)],
          ["Amount", amount(deposit.amount, deposit.l1Token)], ["Status", depositStatus(deposit)],
        ]));
      }
      return showResult("Not found", el("p", {}, "No L2 transaction or block has hash " + hash + " on this node."));
    }
    const receipt = await rpc.call("eth_getTransactionReceipt", [hash]);
    const number = quantity(tx.blockNumber);
    const content = [facts([
      ["Hash", hash],
      ["Kind", txKind(tx)],
      ["Block", el("span", {}, searchLink(String(number), "#" + num(number)), " — " + headOf(number))],
      ["From", searchLink(tx.from, tx.from)],
      ["To", tx.to ? searchLink(tx.to, tx.to) : "contract creation"],
      ["Value", ether(tx.value)],
      receipt && ["Result", receipt.status === "0x1" ? badge("success", "good") : badge("failed", "bad")],
      receipt && ["Gas used", num(quantity(receipt.gasUsed))],
      tx.type === "0x7e" && ["Source", "deposit from L1 (source hash " + tx.sourceHash + ")"],
    ])];
    const startsWithdrawal = receipt && receipt.logs.some((log) => log.address.toLowerCase() === L2_BRIDGE && log.topics[0] === WITHDRAWAL_INITIATED);
    if (startsWithdrawal) {
      try {
        content.push(...withdrawalPath(await rpc.call("rollup_getWithdrawalStatus", [hash])));
      } catch (err) {
        if (!/initiated no withdrawal/.test(err.message)) content.push(el("p", {}, "Withdrawal status unavailable: " + err.message));
      }
    }
    showResult("Transaction " + short(hash), ...content);
  }

  async function searchBlock(number) {
    const block = await rpc.call("eth_getBlockByNumber", ["0x" + number.toString(16), false]);
    if (!block) return showResult("Not found", el("p", {}, "This node has no L2 block " + num(number) + " (yet)."));
    const batch = batchOf(number);
    showResult("L2 block " + num(number), facts([
      ["Hash", block.hash],
      ["Time", time(quantity(block.timestamp))],
      ["Head", headOf(number)],
      ["L1 origin", block.l1Origin ? "L1 #" + num(quantity(block.l1Origin.number)) + " (" + block.l1Origin.hash + ")" : "—"],
      ["Transactions", num(block.transactions.length)],
      ["Gas used", num(quantity(block.gasUsed)) + " of " + num(quantity(block.gasLimit))],
      ["Base fee", block.baseFeePerGas ? (quantity(block.baseFeePerGas) / 1e9).toFixed(4) + " gwei" : "—"],
      batch && ["Batch", "L1 #" + num(batch.l1Block) + ", transaction " + batch.l1TxHash],
    ]), block.transactions.length ? el("ul", {}, block.transactions.map((h) => el("li", {}, searchLink(h, h)))) : null);
  }

  async function searchAddress(address) {
    const [balance, nonce, code] = await Promise.all([
      rpc.call("eth_getBalance", [address, "latest"]),
      rpc.call("eth_getTransactionCount", [address, "latest"]),
      rpc.call("eth_getCode", [address, "latest"]),
    ]);
    const lower = address.toLowerCase();
    const deposits = state.deposits.filter((d) => d.to.toLowerCase() === lower || d.from.toLowerCase() === lower);
    const withdrawals = state.withdrawals.filter((w) => w.from.toLowerCase() === lower || w.to.toLowerCase() === lower);
    const txs = state.txs.filter(({ tx }) => tx.from.toLowerCase() === lower || (tx.to && tx.to.toLowerCase() === lower));
    showResult("Address " + short(address), facts([
      ["Address", address],
      ["Balance", ether(balance)],
      ["Nonce", num(quantity(nonce))],
      ["Code", code && code !== "0x" ? "contract, " + num((code.length - 2) / 2) + " bytes" : "none (an account)"],
      ["Recent deposits", deposits.length ? el("span", {}, deposits.map((d) => [searchLink(d.l2TxHash), " "])) : "none in the recent list"],
      ["Recent withdrawals", withdrawals.length ? el("span", {}, withdrawals.map((w) => [searchLink(w.l2TxHash), " "])) : "none in the recent list"],
      ["Recent transactions", txs.length ? el("span", {}, txs.map(({ tx }) => [searchLink(tx.hash), " "])) : "none in the recent list"],
    ]));
  }

  async function search(query) {
    query = query.trim();
    if (!query) return;
    $("query").value = query;
    try {
      if (/^0x[0-9a-fA-F]{64}$/.test(query)) await searchTransaction(query);
      else if (/^0x[0-9a-fA-F]{40}$/.test(query)) await searchAddress(query);
      else if (/^[0-9]+$/.test(query)) await searchBlock(Number(query));
      else if (/^0x[0-9a-fA-F]{1,15}$/.test(query)) await searchBlock(parseInt(query, 16));
      else showResult("Not understood", el("p", {}, "Enter a 32-byte transaction hash (0x + 64 hex digits), a block number, or a 20-byte address (0x + 40 hex digits)."));
    } catch (err) {
      showResult("Search failed", el("p", {}, err.message));
    }
  }

  function searchFromLocation() {
    const match = /^#q=(.+)$/.exec(location.hash);
    if (match) search(decodeURIComponent(match[1]));
  }

  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    const query = $("query").value.trim();
    if (!query) return;
    if (location.hash === "#q=" + query) search(query);
    else location.hash = "q=" + query;
  });
  window.addEventListener("hashchange", searchFromLocation);

  loop(refreshFast, FAST_MS);
  loop(refreshSlow, SLOW_MS);
  searchFromLocation();
})();
