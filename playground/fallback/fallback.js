// The page orgraph serves at GET /graphql when the playground was not built: a plain form that
// POSTs GraphQL to the page's own URL. The token stays in this tab (sessionStorage).
const $ = (id) => document.getElementById(id);
const endpoint = `${location.origin}${location.pathname.replace(/\/+$/, '')}`;
const KEY = 'orgraph.fallback.token';

$('token').value = sessionStorage.getItem(KEY) ?? '';
$('token').addEventListener('change', () => sessionStorage.setItem(KEY, $('token').value.trim()));

async function post(query, variables) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  const token = $('token').value.trim().replace(/^Bearer\s+/i, '');
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return res.json();
}

function show(value) {
  $('result').textContent = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

$('connect').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    const body = await post(
      'query($id: String!, $s: String!) { accessToken(userPoolId: $id, secret: $s) { accessToken exp } }',
      { id: $('pool-id').value.trim(), s: $('secret').value },
    );
    $('secret').value = '';
    if (body.errors) return show(body);
    $('token').value = body.data.accessToken.accessToken;
    sessionStorage.setItem(KEY, $('token').value);
    show(`token expires at ${new Date(body.data.accessToken.exp * 1000).toLocaleString()}`);
  } catch (e) {
    show(String(e));
  }
});

$('run').addEventListener('click', async () => {
  try {
    const text = $('variables').value.trim();
    show(await post($('query').value, text ? JSON.parse(text) : {}));
  } catch (e) {
    show(String(e));
  }
});
