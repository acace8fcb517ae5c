// viem's live watchers against the L2 RPC, as a new user would write them: watchBlocks,
// watchContractEvent and watchPendingTransactions, each over WebSocket (eth_subscribe) and over
// HTTP polling (filters: eth_newFilter / eth_newPendingTransactionFilter + eth_getFilterChanges).
//
//   node tests/viem/watch.mjs --http http://127.0.0.1:9545 --ws ws://127.0.0.1:9545 \
//     --contract 0x… --sender 0x… [--timeout-ms 60000]
//
// The contract emits `Ping(address indexed from, uint256 value)` on every call (value = the
// call's value); someone else (the Rust test) calls it and sends transactions while this runs.
// Prints `ready` once every watcher is set up, then, when every watcher on both transports has
// seen what it waits for, one JSON line with what each saw and exits 0. Exits 1 on a timeout or
// on any watcher error, saying which.

import { parseArgs } from 'node:util';
import { createPublicClient, http, parseAbiItem, webSocket } from 'viem';

const { values: args } = parseArgs({
  options: {
    http: { type: 'string' },
    ws: { type: 'string' },
    contract: { type: 'string' },
    sender: { type: 'string' },
    'timeout-ms': { type: 'string', default: '60000' },
  },
});
for (const name of ['http', 'ws', 'contract', 'sender']) {
  if (!args[name]) {
    console.error(`missing --${name}`);
    process.exit(2);
  }
}

const ping = parseAbiItem('event Ping(address indexed from, uint256 value)');
const sender = args.sender.toLowerCase();

// Which JSON-RPC methods the HTTP client sent: the HTTP watchers must use filters, not viem's
// eth_getLogs fallback.
const httpMethods = new Set();
const clients = {
  ws: createPublicClient({ transport: webSocket(args.ws) }),
  http: createPublicClient({
    pollingInterval: 200,
    transport: http(args.http, {
      async onFetchRequest(request) {
        const body = await request.clone().json();
        for (const call of Array.isArray(body) ? body : [body]) httpMethods.add(call.method);
      },
    }),
  }),
};

const seen = {};
const errors = [];
const unwatch = [];
for (const [transport, client] of Object.entries(clients)) {
  const record = (seen[transport] = { blocks: [], events: [], pending: [] });
  const onError = (error) => errors.push(`${transport}: ${error?.shortMessage ?? error}`);
  unwatch.push(
    client.watchBlocks({
      onBlock(block) {
        if (!block?.hash) {
          onError(new Error(`watchBlocks delivered no block: ${JSON.stringify(block)}`));
          return;
        }
        record.blocks.push({ number: `0x${block.number.toString(16)}`, hash: block.hash });
      },
      onError,
    }),
    client.watchContractEvent({
      address: args.contract,
      abi: [ping],
      eventName: 'Ping',
      onLogs(logs) {
        for (const log of logs) {
          if (log.removed) continue; // a reorg: the replacement follows
          record.events.push({
            transactionHash: log.transactionHash,
            blockNumber: `0x${log.blockNumber.toString(16)}`,
            from: log.args.from,
            value: `0x${log.args.value.toString(16)}`,
          });
        }
      },
      onError,
    }),
    client.watchPendingTransactions({
      onTransactions(hashes) {
        record.pending.push(...hashes);
      },
      onError,
    }),
  );
}

const done = () =>
  Object.values(seen).every(
    (record) =>
      record.blocks.length >= 2 &&
      record.events.some((event) => event.from.toLowerCase() === sender) &&
      record.pending.length >= 1,
  ) &&
  ['eth_newFilter', 'eth_newPendingTransactionFilter', 'eth_getFilterChanges'].every((method) =>
    httpMethods.has(method),
  );

const finish = (code, message) => {
  for (const stop of unwatch) stop();
  const report = { ...seen, httpMethods: [...httpMethods].sort(), errors };
  if (code === 0) console.log(JSON.stringify(report));
  else console.error(`${message}\n${JSON.stringify(report, null, 2)}`);
  // The WebSocket keeps the event loop alive; leave once the output is flushed.
  process.stdout.write('', () => process.exit(code));
};

// The watchers set themselves up asynchronously (a subscription request, a filter on the first
// poll); the caller keeps sending transactions anyway.
setTimeout(() => console.log('ready'), 500);
const started = Date.now();
const timer = setInterval(() => {
  if (errors.length > 0) {
    clearInterval(timer);
    finish(1, 'a watcher reported an error');
  } else if (done()) {
    clearInterval(timer);
    finish(0);
  } else if (Date.now() - started > Number(args['timeout-ms'])) {
    clearInterval(timer);
    finish(1, `timed out after ${args['timeout-ms']} ms`);
  }
}, 100);
