(function () {
  var params = new URLSearchParams(window.location.hash.slice(1));
  function apply(section) {
    var tag = section.querySelector('.tag-filter').value;
    var outcome = section.querySelector('.outcome-filter').value;
    var rows = section.querySelectorAll('tbody.case');
    var shown = 0;
    rows.forEach(function (row) {
      var tags = (row.getAttribute('data-tags') || '').split(' ');
      var o = row.getAttribute('data-outcome');
      var ok = (!tag || tags.indexOf(tag) >= 0) && (!outcome || o === outcome || (outcome === 'changed' && o !== 'tie'));
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    section.querySelector('.shown-count').textContent = shown + ' of ' + rows.length + ' cases shown';
  }
  document.querySelectorAll('section.cases').forEach(function (section) {
    var tag = section.querySelector('.tag-filter');
    var outcome = section.querySelector('.outcome-filter');
    if (params.has('tag')) { tag.value = params.get('tag'); }
    if (params.has('outcome')) { outcome.value = params.get('outcome'); }
    tag.addEventListener('change', function () { apply(section); });
    outcome.addEventListener('change', function () { apply(section); });
    apply(section);
  });
  document.body.setAttribute('data-ready', '1');
})();
