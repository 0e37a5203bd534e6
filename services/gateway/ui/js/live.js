// A WebSocket that reconnects with back-off and says whether it is connected. `onOpen` runs on
// every (re)connection, and once if the socket is refused, so pages re-read what they missed.

import { wsUrl } from "./api.js";

export function follow(path, params, { onMessage, onState, onOpen }) {
  let socket = null;
  let stopped = false;
  let delay = 500;
  let timer = null;

  function connect() {
    if (stopped) return;
    onState?.("connecting");
    socket = new WebSocket(wsUrl(path, params));
    socket.addEventListener("open", () => {
      delay = 500;
      onState?.("open");
      onOpen?.(socket);
    });
    socket.addEventListener("message", (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      onMessage(data);
    });
    socket.addEventListener("close", (event) => {
      if (stopped) return;
      // 1008: refused (bad key, unknown tenant): retrying would be refused again.
      if (event.code === 1008) {
        onState?.("refused", event.reason);
        onOpen?.(null); // the page still reads its state over HTTP, which says why in words
        return;
      }
      onState?.("closed", event.reason);
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    });
  }

  connect();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      socket?.close();
    },
    send(message) {
      if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    },
  };
}
