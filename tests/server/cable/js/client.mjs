// The official @rails/actioncable consumer, unchanged, in Node: `ws` stands in for the browser's WebSocket.
// Prints one JSON line per event; reads commands from stdin: "subscribe <channel> <id>", "perform <n> <action>",
// "unsubscribe <n>", "exit". Subscriptions are numbered from 0 in the order they were created.
import * as ActionCable from "@rails/actioncable";
import WebSocket from "ws";
import readline from "node:readline";

// The browser globals the consumer's connection monitor touches.
globalThis.document = { visibilityState: "visible" };
globalThis.addEventListener = () => {};
globalThis.removeEventListener = () => {};
ActionCable.adapters.WebSocket = WebSocket;
ActionCable.adapters.logger = { log() {} };

const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");
const consumer = ActionCable.createConsumer(process.argv[2]);
const subscriptions = [];

function subscribe(channel, id) {
  const n = subscriptions.length;
  const params = channel === "MeshProgressChannel" ? { channel, mesh_id: id } : { channel, batch_id: id };
  subscriptions.push(
    consumer.subscriptions.create(params, {
      connected: () => emit({ n, event: "connected" }),
      disconnected: () => emit({ n, event: "disconnected" }),
      rejected: () => emit({ n, event: "rejected" }),
      received: (data) => emit({ n, event: "received", data }),
    }),
  );
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const [command, a, b] = line.trim().split(/\s+/);
  if (command === "subscribe") subscribe(a, Number(b));
  else if (command === "perform") subscriptions[Number(a)].perform(b);
  else if (command === "unsubscribe") subscriptions[Number(a)].unsubscribe();
  else if (command === "exit") {
    consumer.disconnect();
    process.exit(0);
  }
});
emit({ event: "ready" });
