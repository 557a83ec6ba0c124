(function () {
  "use strict";
  var el = document.getElementById("signalements-map");
  if (!el) { return; }
  var map = L.map(el);
  L.tileLayer(el.dataset.tiles, {maxZoom: 19, attribution: "&copy; OpenStreetMap"}).addTo(map);
  map.setView([parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)], parseInt(el.dataset.zoom, 10));
  fetch(el.dataset.url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (data) {
    var layer = L.geoJSON(data, {
      pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, {radius: 4, weight: 1}); },
      onEachFeature: function (feature, marker) {
        var link = document.createElement("a");
        link.href = feature.id + "/change/";
        link.textContent = feature.properties.reference;
        var popup = document.createElement("span");
        popup.appendChild(link);
        popup.appendChild(document.createTextNode(" – " + feature.properties.category + " – " + feature.properties.status));
        marker.bindPopup(popup);
      }
    }).addTo(map);
    if (data.features.length) { map.fitBounds(layer.getBounds(), {maxZoom: 16}); }
  });
})();
