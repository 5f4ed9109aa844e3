// What Azurite's table store costs per insert and per partition query as a table grows: the same LokiJS collection
// options Azurite 3.37 uses for a table (binary indices on PartitionKey and RowKey), and the same query shape
// (queryTableEntities: chain().where(filter) over the whole collection, sorted, first 1,000). Tags of 1,300 rows.
//   node bench/azurite-tables.js [rows...]     (default 100000 500000; figures in bench/README.md, "A compressed day")
const path = require('path');
const loki = require(path.join(__dirname, '..', 'node_modules', 'lokijs'));
const targets = process.argv.slice(2).map(Number);
const collection = new loki('bench', { persistenceMethod: 'memory' }).addCollection('t', { indices: ['PartitionKey', 'RowKey'] });
let rows = 0;
for (const target of targets.length > 0 ? targets : [100000, 500000]) {
  const from = rows;
  const insertStarted = process.hrtime.bigint();
  for (; rows < target; rows++) {
    collection.insert({ PartitionKey: 'tag' + Math.floor(rows / 1300), RowKey: '+336' + String(rows % 1300).padStart(8, '0'), Status: 'Waiting' });
  }
  const insertMicros = Number(process.hrtime.bigint() - insertStarted) / 1000 / (rows - from);
  const partition = 'tag' + Math.floor(rows / 2600);
  const queryStarted = process.hrtime.bigint();
  const page = collection.chain().where(d => d.PartitionKey === partition).sort((a, b) => (a.RowKey > b.RowKey ? 1 : -1)).limit(1000).data();
  const queryMillis = Number(process.hrtime.bigint() - queryStarted) / 1e6;
  console.log(`${rows} rows: insert ${insertMicros.toFixed(1)} us on average since ${from}; one partition query (${page.length} rows) ${queryMillis.toFixed(0)} ms`);
}
