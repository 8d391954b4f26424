// Writes test/fixtures/excel/*: CSV files as Excel writes them (run once; the files are committed).
import fs from 'node:fs';
const dir = 'test/fixtures/excel';
const header = ['firstName', 'lastName', 'salutation', 'cellPhoneNumber', 'cellPhoneCountryCode', 'cellPhoneExtension'];
const rows = [
  ['José', 'Müller', 'Sr', '9876500001', '91', '12'],
  ['Zoë', 'Œuvre; “quoted”', 'Mme', '9876500002', '91', '5'],
  ['Ann', 'Ward', 'Ms', '9876500003', '91', '7'],
];
// Excel "CSV" in a European locale: Windows-1252, `;`-separated, CRLF, quoted where a cell holds the delimiter.
const cell = (c, d) => (c.includes(d) || c.includes('"') ? `"${c.replaceAll('"', '""')}"` : c);
const semicolon = [header, ...rows].map((r) => r.map((c) => cell(c, ';')).join(';')).join('\r\n') + '\r\n';
const win1252 = { 'é': 0xe9, 'ü': 0xfc, 'ë': 0xeb, 'Œ': 0x8c, '“': 0x93, '”': 0x94 };
fs.writeFileSync(`${dir}/windows-1252-semicolon.csv`, Buffer.from([...semicolon].map((c) => win1252[c] ?? c.charCodeAt(0))));
// Excel "Unicode Text": UTF-16LE with BOM, tab-separated, CRLF.
const tabbed = [header, ...rows].map((r) => r.map((c) => cell(c, '\t')).join('\t')).join('\r\n') + '\r\n';
fs.writeFileSync(`${dir}/utf16le-tab.txt`, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(tabbed, 'utf16le')]));
// A phone column left as General: Excel shows and saves long numbers in scientific notation.
fs.writeFileSync(`${dir}/scientific-phones.csv`, `${header.join(',')}\r\nAnn,Lee,Ms,9.87654E+09,91,1\r\nBob,Kim,Mr,9876500011,91,1\r\nCy,Ng,Mx,9.87650E+09,91,1\r\n`);
// Rows joined by CRLF, LF, CR and LF: five data rows, the one after the bare CR its own row.
const lines = [header.join(','), 'A,One,Mr,9876500021,91,9', 'B,Two,Mr,9876500022,91,9', 'C,Three,Mr,9876500023,91,9', 'D,Four,Mr,9876500024,91,9', 'E,Five,Mr,9876500025,91,9'];
fs.writeFileSync(`${dir}/mixed-line-endings.csv`, lines[0] + '\r\n' + lines[1] + '\r\n' + lines[2] + '\n' + lines[3] + '\r' + lines[4] + '\n' + lines[5] + '\r\n');
