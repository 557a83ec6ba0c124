(function () {
  var el = document.getElementById("home-map");
  if (!el) { return; }
  var map = L.map(el);
  L.tileLayer(el.dataset.tiles, {maxZoom: 19, attribution: "&copy; OpenStreetMap"}).addTo(map);
  fetch(el.dataset.districts + "?layer=districts").then(function (r) { return r.json(); }).then(function (data) {
    var layer = L.geoJSON(data, {
      style: {weight: 2, fillOpacity: 0.05},
      onEachFeature: function (feature, shape) { shape.bindTooltip(feature.properties.name); }
    }).addTo(map);
    if (data.features && data.features.length) { map.fitBounds(layer.getBounds()); } else { map.setView([50.63, 5.57], 12); }
  });
})();
