(function () {
  "use strict";
  var el = document.getElementById("queue-map");
  if (!el) { return; }
  var map = L.map(el);
  L.tileLayer(el.dataset.tiles, {maxZoom: 19, attribution: "&copy; OpenStreetMap"}).addTo(map);
  map.setView([parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)], parseInt(el.dataset.zoom, 10));
  fetch(el.dataset.url).then(function (r) { return r.json(); }).then(function (data) {
    var layer = L.geoJSON(data, {
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, {radius: 5, weight: 1, color: feature.properties.overdue ? "#b00020" : "#0b5cad"});
      },
      onEachFeature: function (feature, marker) {
        marker.bindPopup('<a href="signalements/' + feature.id + '/">' + feature.id + "</a> " + feature.properties.category);
      }
    }).addTo(map);
    if (data.features.length) { map.fitBounds(layer.getBounds(), {maxZoom: 16}); }
  });
})();
