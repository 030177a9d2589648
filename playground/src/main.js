// orgraph's playground: GraphiQL 5 (Monaco), every asset served by orgraph itself.
import './workers.js';
import 'graphiql/style.css';
import './style.css';

import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';

import { mountConnectBar } from './connect.js';
import * as session from './session.js';
import { defaultTabs } from './tabs.js';

// The token is read at every operation, so a renewed one is used from the next request on.
// HTTP: `Authorization: Bearer <token>`. Subscriptions: graphql-transport-ws on /graphql/ws,
// one socket per subscription (the toolkit's way), with the same header in connection_init's
// payload. Headers typed in GraphiQL's headers editor win over both. `X-Orgraph-Client` marks
// the playground's requests: a server that runs only trusted documents may let them through
// (`--trusted-documents-playground`).
function fetcher(params, opts) {
  const t = session.token();
  const auth = t ? { Authorization: `Bearer ${t}` } : {};
  return createGraphiQLFetcher({
    url: session.endpoints.http,
    subscriptionUrl: session.endpoints.ws,
    headers: { ...auth, 'X-Orgraph-Client': 'playground' },
    wsConnectionParams: auth,
  })(params, opts);
}

mountConnectBar();

createRoot(document.getElementById('graphiql')).render(
  createElement(GraphiQL, {
    fetcher,
    defaultTabs,
    defaultEditorToolsVisibility: 'variables',
    // The token never goes into the (persisted) headers editor.
    shouldPersistHeaders: false,
  }),
);

// For tests and scripts (e2e.cjs): what the response pane shows, from Monaco's model rather
// than the DOM (Monaco renders only the visible lines).
window.orgraphPlayground = {
  session: () => session.current(),
  responseText() {
    const monaco = globalThis.__MONACO; // set by @graphiql/react when Monaco loads
    const ed = monaco?.editor.getEditors().find((e) => e.getModel()?.uri.path.endsWith('response.json'));
    if (ed) return ed.getValue();
    const lines = document.querySelector('.graphiql-response .view-lines');
    return lines ? lines.innerText.replace(/\u00a0/g, ' ') : null;
  },
};
