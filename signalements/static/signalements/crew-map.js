(function () {
  "use strict";
  var el = document.getElementById("crew-map");
  if (!el) { return; }
  var map = L.map(el);
  L.tileLayer(el.dataset.tiles, {maxZoom: 19, attribution: "&copy; OpenStreetMap"}).addTo(map);
  map.setView([50.63, 5.57], 12);
  fetch(el.dataset.geojson).then(function (r) { return r.json(); }).then(function (data) {
    var bounds = [];
    if (el.dataset.depotLat) {
      var depot = L.latLng(parseFloat(el.dataset.depotLat), parseFloat(el.dataset.depotLon));
      L.circleMarker(depot, {radius: 8, color: "#1b1b1b", className: "depot-marker"}).addTo(map).bindTooltip(el.dataset.depotLabel);
      bounds.push(depot);
    }
    L.geoJSON(data, {
      style: {color: "#0b5cad", weight: 3, dashArray: "6 6"},
      pointToLayer: function (feature, latlng) {
        bounds.push(latlng);
        var icon = L.divIcon({className: "stop-icon" + (feature.properties.number <= 0 ? "" : ""),
                              html: String(feature.properties.number), iconSize: [36, 36]});
        return L.marker(latlng, {icon: icon, title: feature.properties.number + ". " + feature.id,
                                 alt: feature.properties.number + ". " + feature.id});
      }
    }).addTo(map);
    if (bounds.length) { map.fitBounds(L.latLngBounds(bounds).pad(0.1), {maxZoom: 17}); }
  });
})();
