// Sort the report table by the clicked column (numbers numerically, text alphabetically).
document.querySelectorAll('#report-table th.sortable').forEach(function (th, col) {
  th.addEventListener('click', function () {
    var body = th.closest('table').tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.dataset.dir !== 'asc';
    th.dataset.dir = asc ? 'asc' : 'desc';
    function key(row) { var c = row.cells[col]; var v = c.dataset.sort !== undefined ? c.dataset.sort : c.textContent.trim(); var n = parseFloat(v); return isNaN(n) ? v.toLowerCase() : n; }
    rows.sort(function (a, b) { var x = key(a), y = key(b); if (x === y) return 0; return (x > y ? 1 : -1) * (asc ? 1 : -1); });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
