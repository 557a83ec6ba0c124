/* Small maps of the desk: a report with its district and nearby reports, and each duplicate group.
   Numbers come from data attributes written without localisation; the lists beside the maps say
   the same in text. */
(function () {
  "use strict";

  function baseMap(el) {
    var map = L.map(el, {keyboard: true, scrollWheelZoom: false});
    L.tileLayer(el.dataset.tiles, {maxZoom: 19, attribution: "&copy; OpenStreetMap"}).addTo(map);
    return map;
  }

  function latLngOf(node) {
    return L.latLng(parseFloat(node.dataset.lat), parseFloat(node.dataset.lon));
  }

  function numbered(map, items) {
    var points = [];
    items.forEach(function (item) {
      var latlng = latLngOf(item);
      points.push(latlng);
      L.circleMarker(latlng, {radius: 7, color: "#0b5cad", weight: 2, fillOpacity: 0.6}).addTo(map)
        .bindTooltip(item.dataset.number, {permanent: true, direction: "top"});
    });
    return points;
  }

  var report = document.getElementById("report-detail-map");
  if (report) {
    var map = baseMap(report);
    var here = latLngOf(report);
    var outline = document.getElementById("district-outline");
    if (outline) {
      L.geoJSON(JSON.parse(outline.textContent), {style: {weight: 2, color: "#4a4a4a", fillOpacity: 0.05, interactive: false}}).addTo(map);
    }
    var points = [here].concat(numbered(map, document.querySelectorAll(".nearby-item[data-lat]")));
    L.circleMarker(here, {radius: 9, color: "#b00020", weight: 3}).addTo(map).bindTooltip(report.dataset.label);
    map.fitBounds(L.latLngBounds(points).pad(0.5), {maxZoom: 17});
  }

  document.querySelectorAll(".group-map").forEach(function (el) {
    var group = el.closest(".duplicate-group");
    var groupMap = baseMap(el);
    var groupPoints = numbered(groupMap, group.querySelectorAll(".member[data-lat]"));
    if (groupPoints.length) { groupMap.fitBounds(L.latLngBounds(groupPoints).pad(0.5), {maxZoom: 18}); }
  });
})();
