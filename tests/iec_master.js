// Data readout of klefr-sim's optical port by a third-party IEC 62056-21
// master: smartmeter-obis (D0Protocol over SerialRequestResponseTransport,
// mode C: sign-on at 300 baud, ACK 0 5 0, baud changeover to 9600).
//   node iec_master.js PORT|tcp:HOST:PORT EXPECT_JSON
// EXPECT_JSON: {"32.7.0": [230, 0.001], ...} value within a relative
// tolerance, or {"C.1.0": "17060102"} exact text; "1.8.0>": 0 = greater.
// A pty carries no parity (GUIDE 7): the port is opened 8N1.
'use strict';
const path = require('path');
const SmartmeterObis = require(path.join(__dirname, 'node', 'node_modules', 'smartmeter-obis'));

const port = process.argv[2];
const expect = JSON.parse(process.argv[3] || '{}');

let done = false;
const timer = setTimeout(() => {
    console.log('FAIL: no readout within 20 s');
    process.exit(1);
}, 20000);

// PORT tcp:HOST:PORT: smartmeter-obis's TCPTransport, which only listens
// (it cannot send): another client of the same port asks for the readout.
const tcp = port.match(/^tcp:(.*):(\d+)$/);
const transportOptions = tcp ? {
    transport: 'TCPTransport',
    transportTcpHost: tcp[1],
    transportTcpPort: Number(tcp[2]),
} : {
    transport: 'SerialRequestResponseTransport',
    transportSerialPort: port,
    transportSerialBaudrate: 300,
    transportSerialDataBits: 8,
    transportSerialParity: 'none',
    transportSerialStopBits: 1,
};
const transport = SmartmeterObis.init(Object.assign({
    protocol: 'D0Protocol',
    requestInterval: -1,
    obisFallbackMedium: 1,
    debug: process.env.KLEFR_DEBUG ? 2 : 0,
}, transportOptions), (err, data) => {
    if (done)
        return;
    if (err) {
        console.log('FAIL: ' + err.message);
        process.exit(1);
    }
    done = true;
    let bad = 0;
    const byCode = {};
    for (const id in data) {
        const o = data[id];
        // short form "1.8.0" from measurement.measureType.tariffRate
        const code = [o.measurement, o.measureType, o.tariffRate].filter((x) => x !== undefined).join('.');
        byCode[code] = o.values[0];
    }
    for (const key in expect) {
        const greater = key.endsWith('>');
        // smartmeter-obis names the letters C and F by their numbers 96, 97
        const code = (greater ? key.slice(0, -1) : key).replace(/^C\./, '96.').replace(/^F\.F$/, '97.97');
        const v = byCode[code];
        if (!v) {
            console.log('FAIL: ' + code + ' missing (got ' + Object.keys(byCode).join(' ') + ')');
            bad++;
            continue;
        }
        const want = expect[key];
        let ok;
        if (greater)
            ok = typeof v.value === 'number' && v.value > want;
        else if (Array.isArray(want))
            ok = Math.abs(v.value - want[0]) <= want[1] * Math.abs(want[0]);
        else
            ok = String(v.value) === String(want);
        console.log((ok ? 'ok: ' : 'FAIL: ') + code + ' = ' + v.value + (v.unit ? ' ' + v.unit : '') +
                    (ok ? '' : ' (want ' + JSON.stringify(want) + (greater ? ' or more' : '') + ')'));
        if (!ok)
            bad++;
    }
    clearTimeout(timer);
    transport.stop(() => process.exit(bad ? 1 : 0));
});
transport.process();
