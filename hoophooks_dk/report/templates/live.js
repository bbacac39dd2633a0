// hookdk watch --ui: each run arrives as a server-sent event holding its HTML, made and
// escaped by the same templates as a report; the latest run goes first.
(() => {
  const runs = document.getElementById("runs");
  const waiting = document.getElementById("waiting");
  const connection = document.getElementById("connection");
  const keep = Number(runs.dataset.keep || 50);
  const source = new EventSource("events?after=" + encodeURIComponent(runs.dataset.after || "0"));
  const show = (word, state) => { connection.textContent = word; connection.className = "connection " + state; };
  source.addEventListener("run", (event) => {
    const run = JSON.parse(event.data);
    if (document.getElementById(run.anchor)) return;
    runs.insertAdjacentHTML("afterbegin", run.html);
    while (runs.children.length > keep) runs.lastElementChild.remove();
    waiting.hidden = true;
    document.title = run.title;
    const settings = document.getElementById("settings");
    if (run.settings && settings) settings.outerHTML = run.settings;
  });
  source.addEventListener("stop", () => { source.close(); show("watch stopped", "stopped"); });
  source.onopen = () => show("live", "live");
  source.onerror = () => { if (source.readyState !== EventSource.CLOSED) show("reconnecting…", "lost"); };
})();
