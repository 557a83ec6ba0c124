/* Small maps of the desk: a report with its district and nearby reports, and each duplicate group.
   Numbers come from data attributes written without localisation; the lists beside the maps say
   the same in text. */
(function () {
  "use strict";

  function baseMap(el, center) {
    // A view before any layer: Leaflet cannot draw a vector layer on a map without one.
    var map = L.map(el, {keyboard: true, scrollWheelZoom: false}).setView(center, 17);
    L.tileLayer(el.dataset.tiles, {maxZoom: 19, attribution: "&copy; OpenStreetMap"}).addTo(map);
    return map;
  }

  function latLngOf(node) {
    return L.latLng(parseFloat(node.dataset.lat), parseFloat(node.dataset.lon));
  }

  function numbered(map, items, firstColor) {
    var points = [];
    items.forEach(function (item, index) {
      var latlng = latLngOf(item);
      var color = index === 0 && firstColor ? firstColor : "#0b5cad";
      points.push(latlng);
      L.circleMarker(latlng, {radius: 7, color: color, weight: 2, fillOpacity: 0.6}).addTo(map)
        .bindTooltip(item.dataset.number, {permanent: true, direction: "top"});
    });
    return points;
  }

  var report = document.getElementById("report-detail-map");
  if (report) {
    var here = latLngOf(report);
    var map = baseMap(report, here);
    var bounds = L.latLngBounds(
      [here].concat(numbered(map, document.querySelectorAll(".nearby-item[data-lat]")))).pad(0.5);
    var outline = document.getElementById("district-outline");
    if (outline) {
      // The whole district around the report: where it is in the city, before zooming in.
      bounds.extend(L.geoJSON(JSON.parse(outline.textContent), {
        style: {weight: 2, color: "#4a4a4a", fillOpacity: 0.05, interactive: false}
      }).addTo(map).getBounds());
    }
    L.circleMarker(here, {radius: 9, color: "#b00020", weight: 3}).addTo(map).bindTooltip(report.dataset.label);
    map.fitBounds(bounds, {maxZoom: 17});
  }

  document.querySelectorAll(".group-map").forEach(function (el) {
    var members = el.closest(".duplicate-group").querySelectorAll(".member[data-lat]");
    if (!members.length) { return; }
    var groupMap = baseMap(el, latLngOf(members[0]));
    groupMap.fitBounds(L.latLngBounds(numbered(groupMap, members, "#b00020")).pad(0.5), {maxZoom: 18});
  });
})();
