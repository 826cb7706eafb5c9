// GraphQL over HTTP (queries, mutations) and graphql-transport-ws (subscriptions), no dependencies.

export class GraphQLError extends Error {
  constructor(errors) {
    super(errors.map((e) => `${e.extensions?.code ?? "ERROR"}: ${e.message}`).join("; "));
    this.name = "GraphQLError";
    this.errors = errors;
    this.code = errors[0]?.extensions?.code ?? null;
  }
}

export class GraphQLClient {
  /** @param {string} apiUrl origin of the meetmesh API, e.g. "https://meet.example.com" */
  constructor(apiUrl, token = null) {
    this.apiUrl = apiUrl.replace(/\/$/, "");
    this.token = token;
  }

  async request(query, variables = {}) {
    const headers = { "content-type": "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(`${this.apiUrl}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    const body = await res.json();
    if (body.errors?.length) throw new GraphQLError(body.errors);
    return body.data;
  }

  /**
   * Subscribe on a socket of its own. `onNext(data)` gets each result; returns `close()`.
   * Resumes after a dropped socket from the last `seq` seen when `resumeSeq(data)` is given.
   */
  subscribe(query, variables, onNext, { onError = () => {}, resume = null } = {}) {
    let ws = null;
    let closed = false;
    let vars = { ...variables };
    const open = () => {
      ws = new WebSocket(`${this.apiUrl.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws");
      ws.onopen = () => {
        const init = { type: "connection_init" };
        if (this.token) init.payload = { authorization: `Bearer ${this.token}` };
        ws.send(JSON.stringify(init));
      };
      ws.onmessage = (ev) => {
        const msg = JSON.parse(ev.data);
        if (msg.type === "connection_ack") {
          ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables: vars } }));
        } else if (msg.type === "ping") {
          ws.send(JSON.stringify({ type: "pong" }));
        } else if (msg.type === "next") {
          if (msg.payload.errors?.length) onError(new GraphQLError(msg.payload.errors));
          if (msg.payload.data) {
            if (resume) vars = { ...vars, ...resume(msg.payload.data) };
            onNext(msg.payload.data);
          }
        } else if (msg.type === "error") {
          onError(new GraphQLError(msg.payload));
        }
      };
      ws.onclose = (ev) => {
        // 4xxx: the server refused us (auth, forbidden): do not hammer it. Otherwise reconnect and resume.
        if (!closed && ev.code < 4000) setTimeout(open, 1000);
        else if (!closed) onError(new Error(`subscription closed: ${ev.code} ${ev.reason}`));
      };
    };
    open();
    return () => {
      closed = true;
      ws?.close(1000);
    };
  }
}
