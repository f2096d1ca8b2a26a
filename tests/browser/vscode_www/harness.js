// A VS Code-like notebook output webview for the browser tests (tests/browser/vscode_host.py bundles
// this file with esbuild). What VS Code does, and what this page does instead:
// - widget manager: VS Code's own bundle, @vscode/jupyter-ipywidgets8 (activate(), then
//   vscIPyWidgets8.load() defines window.vscIPyWidgets.WidgetManager) — the same bundle here;
// - kernel: a @jupyterlab/services KernelConnection (the class VS Code's proxy kernel wraps), whose
//   frames VS Code relays through postMessage to the extension host — here straight to Jupyter
//   Server's websocket;
// - widget modules the bundle lacks (anywidget): requirejs from the kernel environment's
//   share/jupyter/nbextensions/<module>/index.js — the same, served as /static/nbextensions/;
// - outputs: get_model -> create_view -> display_view into an element with the class
//   cell-output-ipywidget-background; an update of a display id renders the output again.
import { KernelAPI, ServerConnection } from "@jupyterlab/services";
import { KernelConnection } from "@jupyterlab/services/lib/kernel/default";
import { activate } from "@vscode/jupyter-ipywidgets8/dist/ipywidgets.js";

const WIDGET_MIME = "application/vnd.jupyter.widget-view+json";
const params = new URLSearchParams(location.search);

async function main() {
  activate();
  window.vscIPyWidgets8.load(); // what VS Code's renderer does for ipywidgets 8
  const WidgetManager = window.vscIPyWidgets.WidgetManager;
  const settings = ServerConnection.makeSettings({
    baseUrl: `${location.origin}/`,
    wsUrl: `ws://${location.host}/`,
    token: params.get("token") || "",
    appendToken: true,
  });
  const model = await KernelAPI.startNew({ name: "python3" }, settings);
  const kernel = new KernelConnection({
    model,
    serverSettings: settings,
    handleComms: true,
    username: "vscode",
    clientId: crypto.randomUUID(),
  });
  await kernel.info;
  const registered = new Set();
  const scriptLoader = {
    widgetsRegisteredInRequireJs: registered,
    loadWidgetScript: async (moduleName) => {
      window.requirejs.config({ paths: { [moduleName]: `/static/nbextensions/${moduleName}/index` } });
      registered.add(moduleName);
    },
    successHandler: () => {},
    errorHandler: (className, moduleName, version, err) =>
      console.error("widget class failed", className, moduleName, version, String(err)),
  };
  const out = document.getElementById("out");
  const manager = new WidgetManager(kernel, out, scriptLoader, () => {});
  const views = new Map(); // display id -> [{node, view}]

  async function renderWidget(data, node) {
    const m = await manager.get_model(data.model_id);
    const view = await manager.create_view(m, { el: node });
    await manager.display_view(data, view, { node });
    return view;
  }

  function addOutput(cell, data, displayId) {
    const node = document.createElement("div");
    node.className = "output cell-output-ipywidget-background"; // the class VS Code's renderer adds
    cell.appendChild(node);
    const entry = { node, view: null };
    if (displayId) views.set(displayId, [...(views.get(displayId) || []), entry]);
    return renderWidget(data, node).then((v) => {
      entry.view = v;
    });
  }

  function updateOutput(data, displayId) {
    // VS Code disposes the rendered output item and renders the new one in its place
    const rendering = [];
    for (const entry of views.get(displayId) || []) {
      if (entry.view) entry.view.remove();
      entry.node.replaceChildren();
      rendering.push(
        renderWidget(data, entry.node).then((v) => {
          entry.view = v;
        }),
      );
    }
    return Promise.all(rendering);
  }

  function exec(code) {
    const cell = document.createElement("div");
    cell.className = "cell";
    out.appendChild(cell);
    const texts = [];
    const rendering = [];
    const future = kernel.requestExecute({ code });
    const text = (cls, s) => {
      texts.push(s);
      const pre = document.createElement("pre");
      pre.className = cls;
      pre.textContent = s;
      cell.appendChild(pre);
    };
    future.onIOPub = (msg) => {
      const t = msg.header.msg_type;
      const c = msg.content;
      if (t === "stream") text("stream", c.text);
      else if (t === "error") text("error", `${c.ename}: ${c.evalue}\n${(c.traceback || []).join("\n")}`);
      else if ((t === "display_data" || t === "execute_result") && c.data[WIDGET_MIME]) {
        const p = addOutput(cell, c.data[WIDGET_MIME], c.transient?.display_id);
        rendering.push(p.catch((e) => text("error", `render failed: ${e}`)));
      } else if (t === "update_display_data" && c.data[WIDGET_MIME]) {
        updateOutput(c.data[WIDGET_MIME], c.transient?.display_id).catch((e) =>
          console.error("update failed", e),
        );
      }
    };
    return future.done.then(async (reply) => {
      await Promise.all(rendering);
      return { status: reply.content.status, text: texts.join("") };
    });
  }

  window.harness = { exec, kernel, manager };
  document.body.dataset.ready = "1";
}

main().catch((e) => {
  console.error("harness failed", e);
  document.body.dataset.ready = "error";
  document.body.dataset.error = String(e);
});
