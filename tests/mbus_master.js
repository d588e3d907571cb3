// A real M-bus master for the integration tests: libmbus through node-mbus.
//   node mbus_master.js PORT BAUD read ADDR      one line per value:
//        id=17060102 manufacturer=INM version=1 medium=Electricity ...
//        record=0 function=... tariff=0 unit=Energy (10 Wh) value=229
//   node mbus_master.js PORT BAUD scan           the secondary addresses found
//   node mbus_master.js PORT BAUD setid OLD NEW  set the primary address
// ADDR / OLD: a primary address 0..250 or a 16-character secondary address.
// Exit 1 with the error on stderr when the master reports one.
'use strict';
const path = require('path');
const MbusMaster = require(path.join(__dirname, 'node', 'node_modules', 'node-mbus'));

const [port, baud, cmd, ...args] = process.argv.slice(2);
if (!port || !baud || !cmd) {
    console.error('usage: mbus_master.js PORT BAUD read ADDR | scan | setid OLD NEW');
    process.exit(2);
}

const master = new MbusMaster({ serialPort: port, serialBaudRate: Number(baud), autoConnect: true });
const addr = (s) => (/^\d{1,3}$/.test(s) ? Number(s) : s);

function done(err, lines) {
    master.close();
    if (err) {
        console.error('mbus_master: ' + (err.message || err));
        process.exit(1);
    }
    for (const l of lines) console.log(l);
    process.exit(0);
}

if (cmd === 'read') {
    master.getData(addr(args[0]), (err, data) => {
        if (err) return done(err);
        const si = data.SlaveInformation;
        const lines = [`id=${si.Id} manufacturer=${si.Manufacturer} version=${si.Version} ` +
                       `medium=${si.Medium} access=${si.AccessNumber} status=${si.Status}`];
        for (const r of data.DataRecord) {
            lines.push(`record=${r.id} function=${r.Function} tariff=${r.Tariff || 0} ` +
                       `unit=${r.Unit} value=${r.Value}`);
        }
        done(null, lines);
    });
} else if (cmd === 'scan') {
    master.scanSecondary((err, found) => done(err, err ? [] : found));
} else if (cmd === 'setid') {
    master.setPrimaryId(addr(args[0]), Number(args[1]), (err) => done(err, ['ok']));
} else {
    console.error('mbus_master: unknown command ' + cmd);
    process.exit(2);
}
