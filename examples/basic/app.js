const force = new URLSearchParams(location.search).has('force');
const $ = (id) => document.getElementById(id);

async function main() {
  $('mode').textContent = BackgroundSyncPolyfill.native
    ? 'native Background Sync'
    : `background-sync-polyfill ${BackgroundSyncPolyfill.version}`;
  const registration = await navigator.serviceWorker.register(`sw.js${force ? '?force=1' : ''}`);
  await navigator.serviceWorker.ready;

  async function refresh() {
    const tags = await registration.sync.getTags();
    $('tags').replaceChildren(...tags.map((tag) => Object.assign(document.createElement('li'), { textContent: tag })));
    const sent = await (await fetch('/api/sent')).json();
    $('fired').replaceChildren(...sent.reverse().map((s) => Object.assign(document.createElement('li'), {
      className: 'fired', textContent: `${s.at}  ${s.tag}${s.lastChance ? ' (last chance)' : ''}`,
    })));
  }

  $('form').addEventListener('submit', async (event) => {
    event.preventDefault();
    await registration.sync.register($('tag').value);
    refresh();
  });
  navigator.serviceWorker.addEventListener('message', refresh);
  setInterval(refresh, 2000);
  refresh();
}
main().catch((e) => { $('mode').textContent = `error: ${e}`; });
