// A mistake a user can make: the Node entry in a browser bundle. It must fail with a message naming the fix.
const w = window as unknown as { error?: string };
import('ddpm-gmm/node').then(
  () => (document.body.dataset.state = 'done'),
  (e: unknown) => {
    w.error = e instanceof Error ? e.message : String(e);
    document.body.dataset.state = 'error';
  },
);
