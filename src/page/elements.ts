// The page's DOM (index.html): the elements that the controller reads and writes, found by id.

export interface PageElements {
  readonly form: HTMLFormElement;
  readonly message: HTMLElement;
  readonly status: HTMLElement;
  readonly adapter: HTMLElement;
  readonly start: HTMLButtonElement;
  readonly pause: HTMLButtonElement;
  readonly reset: HTMLButtonElement;
  readonly export: HTMLButtonElement;
  readonly file: HTMLInputElement;
  readonly generate: HTMLButtonElement;
  readonly generateStatus: HTMLElement;
  readonly generateCount: HTMLInputElement;
  /** Any other element by id: the plots' containers and the panels' notes. */
  byId<T extends HTMLElement = HTMLElement>(id: string): T;
}

export function pageElements(doc: Document = document): PageElements {
  const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
    const el = doc.getElementById(id);
    if (!el) throw new Error(`The page is missing #${id}.`);
    return el as T;
  };
  return {
    form: byId<HTMLFormElement>('controls'),
    message: byId('message'),
    status: byId('status'),
    adapter: byId('adapter'),
    start: byId<HTMLButtonElement>('start'),
    pause: byId<HTMLButtonElement>('pause'),
    reset: byId<HTMLButtonElement>('reset'),
    export: byId<HTMLButtonElement>('export'),
    file: byId<HTMLInputElement>('file'),
    generate: byId<HTMLButtonElement>('generate'),
    generateStatus: byId('generate-status'),
    generateCount: byId<HTMLInputElement>('generate-n'),
    byId,
  };
}
