// The demo's own outbox, shared by the page and the service worker (a classic script: <script> and
// importScripts). One IndexedDB object store of messages: { id, text, tag, state, createdAt, sentAt?, error? }.
// States: 'queued' (waiting for a sync event), 'sending' (the sync handler is posting it), 'sent'.
(() => {
  const DB = 'outbox-demo';
  const STORE = 'messages';
  let opening = null;

  function open() {
    if (!opening) {
      opening = new Promise((resolve, reject) => {
        const request = indexedDB.open(DB, 1);
        request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'id' });
        request.onsuccess = () => {
          const db = request.result;
          db.onversionchange = () => {
            db.close();
            opening = null;
          };
          resolve(db);
        };
        request.onerror = () => {
          opening = null;
          reject(request.error);
        };
        request.onblocked = () => reject(new Error('the outbox database is blocked by another tab'));
      });
    }
    return opening;
  }

  /** Runs fn(store) in one transaction; resolves with fn's request result once the transaction completes. */
  async function run(mode, fn) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      let result;
      const request = fn(tx.objectStore(STORE));
      if (request) request.onsuccess = () => (result = request.result);
      tx.oncomplete = () => resolve(result);
      tx.onabort = tx.onerror = () => reject(tx.error || new Error('outbox transaction failed'));
    });
  }

  self.OutboxDB = {
    add: (message) => run('readwrite', (store) => store.add(message)),
    get: (id) => run('readonly', (store) => store.get(id)),
    all: async () => ((await run('readonly', (store) => store.getAll())) || []).sort((a, b) => a.createdAt - b.createdAt),
    /** Merges `changes` into a message, read and written in one transaction. */
    update: (id, changes) =>
      run('readwrite', (store) => {
        const request = store.get(id);
        request.onsuccess = () => {
          if (request.result) store.put(Object.assign(request.result, changes));
        };
        return null;
      }),
    clearSent: () =>
      run('readwrite', (store) => {
        const request = store.openCursor();
        request.onsuccess = () => {
          const cursor = request.result;
          if (!cursor) return;
          if (cursor.value.state === 'sent') cursor.delete();
          cursor.continue();
        };
        return null;
      }),
  };
})();
