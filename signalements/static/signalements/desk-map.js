(function () {
  "use strict";
  var el = document.getElementById("queue-map");
  if (!el) { return; }
  var map = L.map(el);
  L.tileLayer(el.dataset.tiles, {maxZoom: 19, attribution: "&copy; OpenStreetMap"}).addTo(map);
  map.setView([parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)], parseInt(el.dataset.zoom, 10));
  var districts = map.createPane("districts");
  districts.style.zIndex = 350;  // under the markers (overlayPane is 400)
  districts.style.pointerEvents = "none";
  if (el.dataset.districts) {
    fetch(el.dataset.districts).then(function (r) { return r.json(); }).then(function (data) {
      L.geoJSON(data, {pane: "districts", interactive: false,
                       style: {color: "#5b3a8c", weight: 2, dashArray: "6 4", fill: false}}).addTo(map);
    });
  }
  // The pop-up is built from nodes, never from the names as HTML.
  function popup(feature) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = "signalements/" + encodeURIComponent(feature.id) + "/";
    link.textContent = feature.id;
    box.appendChild(link);
    var text = document.createElement("div");
    text.textContent = feature.properties.category + " · " + feature.properties.status_label;
    box.appendChild(text);
    return box;
  }
  fetch(el.dataset.url).then(function (r) { return r.json(); }).then(function (data) {
    var layer = L.geoJSON(data, {
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, {radius: 6, weight: 2, color: feature.properties.overdue ? "#b00020" : "#0b5cad"});
      },
      onEachFeature: function (feature, marker) { marker.bindPopup(function () { return popup(feature); }); }
    }).addTo(map);
    el.dataset.markers = String(data.features.length);
    if (data.features.length) { map.fitBounds(layer.getBounds(), {maxZoom: 16}); }
  });
})();
