"use strict";
// The list of editions marks those this browser has not listed before ("new since your last visit").
(function () {
  var KEY = "audio-edition.listed." + window.location.pathname;  // one list per out/ folder
  var items = Array.prototype.slice.call(document.querySelectorAll("ol.editions > li[data-edition]"));
  var listed = items.map(function (item) { return item.getAttribute("data-edition"); });

  function load(store, name) { try { return window[store].getItem(name); } catch (e) { return null; } }
  function save(store, name, value) { try { window[store].setItem(name, value); } catch (e) { /* no storage: no marks */ } }
  function parse(text) {
    try { var value = JSON.parse(text); return Array.isArray(value) ? value : null; } catch (e) { return null; }
  }

  // What the last visit listed, kept for this tab: a reload in the same visit keeps the same marks.
  var kept = load("sessionStorage", KEY);
  if (kept === null) {
    kept = load("localStorage", KEY) || "null";
    save("sessionStorage", KEY, kept);
  }
  save("localStorage", KEY, JSON.stringify(listed));
  var before = parse(kept);
  if (before === null) { return; }  // a first visit: nothing to compare with
  var seen = {};
  before.forEach(function (key) { seen[key] = true; });

  var fresh = 0;
  items.forEach(function (item) {
    if (seen[item.getAttribute("data-edition")]) { return; }
    fresh += 1;
    item.classList.add("new");
    var mark = document.createElement("span");
    mark.className = "new-mark";
    mark.textContent = "New";
    var heading = item.querySelector("h2");
    heading.appendChild(document.createTextNode(" "));
    heading.appendChild(mark);
  });
  var note = document.getElementById("new-count");
  if (note && fresh) {
    note.textContent = fresh === 1 ? "1 edition new since your last visit." : fresh + " editions new since your last visit.";
    note.hidden = false;
  }
})();
