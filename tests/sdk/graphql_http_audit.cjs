// graphql-http's server audits (the GraphQL over HTTP specification), unchanged, against
// orgraph's /graphql. Prints one JSON line: the audits by requirement and status, and each
// failure's id, name and reason.
const { auditServer } = require('graphql-http');

(async () => {
  const url = `${process.env.ORGRAPH_HOST}/graphql`;
  const results = await auditServer({ url });
  const counts = {};
  const failures = [];
  for (const r of results) {
    const level = r.name.split(' ')[0];
    counts[level] = counts[level] || { ok: 0, failed: 0 };
    if (r.status === 'ok') {
      counts[level].ok += 1;
    } else {
      counts[level].failed += 1;
      failures.push({ id: r.id, name: r.name, status: r.status, reason: r.reason });
    }
  }
  console.log(JSON.stringify({ total: results.length, counts, failures }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
